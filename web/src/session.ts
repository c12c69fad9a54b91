import type { Login, PublicUser } from './api';

/** A logged-in user as the pages keep it. */
export interface Session {
  readonly token: string;
  readonly user: PublicUser;
  /** Trades for a new token (POST /api/auth/refresh); it rotates. Absent in sessions kept by older pages. */
  readonly refreshToken?: string;
  /** When `token` expires, epoch ms (the page's clock at issue + expiresIn). */
  readonly expiresAt?: number;
}

/** What a login or a refresh hands out. */
export interface IssuedTokens {
  readonly token: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
}

/** The session with newly issued tokens. */
export function withTokens(session: { readonly user: PublicUser }, issued: IssuedTokens, now = Date.now()): Session {
  return { user: session.user, token: issued.token, refreshToken: issued.refreshToken, expiresAt: now + issued.expiresIn * 1000 };
}

/**
 * The session of one tab, in sessionStorage: it survives a reload, and two tabs of one
 * browser can be two users (the quickest way to try the chat alone). The refresh token is
 * kept there too: one tab's session, gone when the tab closes (docs/security.md).
 */
export function createSessionStore({ key }: { /** The storage key; each page has its own. */ key: string }) {
  const store = (session: Session): Session => {
    sessionStorage.setItem(key, JSON.stringify(session));
    return session;
  };
  return {
    load(): Session | undefined {
      try {
        const raw = sessionStorage.getItem(key);
        if (raw === null) return undefined;
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === 'object' && parsed !== null && 'token' in parsed && typeof parsed.token === 'string' && 'user' in parsed) {
          return parsed as Session;
        }
      } catch {
        // unreadable: as if there were none
      }
      return undefined;
    },
    save(login: Login): Session {
      return store(withTokens(login, login));
    },
    /** Keeps a refreshed session. */
    update(session: Session): Session {
      return store(session);
    },
    clear(): void {
      sessionStorage.removeItem(key);
    },
  };
}
