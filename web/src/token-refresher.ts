import { ChatError } from './api';
import { withTokens, type IssuedTokens, type Session } from './session';

/** Refresh this long before the token expires at most (and a quarter of what is left, if less). */
const MAX_LEAD_MS = 60_000;
/** After a failed refresh that may work later (network, 5xx): try again this soon. */
const RETRY_MS = 5_000;

/**
 * Keeps a page's access token fresh with its refresh token (api.md v1.1), so an open page
 * never asks for the password while the refresh token is valid: a refresh is scheduled
 * ahead of every expiry, and `ensureFresh` serves the connection's 4001 and REST 401s.
 *
 * One refresh at a time: a refresh token works once, and a second refresh with the same
 * one counts as reuse, which revokes the session (docs/security.md, "Refresh tokens").
 */
export function createTokenRefresher({
  refresh,
  current,
  save,
  verify,
}: {
  /** POST /api/auth/refresh. */
  refresh: (refreshToken: string) => Promise<IssuedTokens>;
  /** The session now (undefined after logout). */
  current: () => Session | undefined;
  /** Keeps the refreshed session (the page's variable and sessionStorage). */
  save: (session: Session) => void;
  /** Whether the server still takes the current token (GET /api/me), for a 4001 on a token not yet expired. */
  verify: () => Promise<boolean>;
}) {
  let timer: number | undefined;
  let inFlight: Promise<boolean> | undefined;

  const stop = (): void => {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = undefined;
  };

  const schedule = (session: Session, inMs?: number): void => {
    stop();
    if (session.refreshToken === undefined || session.expiresAt === undefined) return;
    const left = session.expiresAt - Date.now();
    const delay = inMs ?? Math.max(0, left - Math.min(MAX_LEAD_MS, left / 4));
    timer = window.setTimeout(() => void refreshNow(), delay);
  };

  const refreshOnce = async (): Promise<boolean> => {
    const session = current();
    if (session?.refreshToken === undefined) return false;
    try {
      const next = withTokens(session, await refresh(session.refreshToken));
      // Logged out (or in as someone else) meanwhile: the answer is not this page's any more.
      if (current() !== session) return false;
      save(next);
      schedule(next);
      return true;
    } catch (error) {
      // Refused (expired, revoked, reused): only a login helps. Anything else may pass.
      if (!(error instanceof ChatError && error.status === 401) && current() === session) schedule(session, RETRY_MS);
      return false;
    }
  };

  const refreshNow = (): Promise<boolean> => {
    inFlight ??= refreshOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };

  return {
    /** Schedules refreshes for a session that starts (login, reload). */
    start: (session: Session): void => schedule(session),
    stop,
    refreshNow,
    /**
     * A token the server takes, refreshing if needed: resolves false when the session
     * cannot go on without a login. For the connection's `refreshToken` (4001) and REST 401s.
     */
    async ensureFresh(): Promise<boolean> {
      const session = current();
      if (session === undefined) return false;
      const fresh = session.expiresAt !== undefined && session.expiresAt - Date.now() > RETRY_MS;
      // A fresh token refused anyway was revoked (or the server restarted): refresh too.
      if (fresh && (await verify())) return true;
      return refreshNow();
    },
  };
}

export type TokenRefresher = ReturnType<typeof createTokenRefresher>;
