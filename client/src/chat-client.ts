import { createChatConnection, type ChatConnection, type ChatConnectionOptions } from './chat-connection.js';
import { ChatError } from './chat-error.js';
import type { LoginResponse, PublicUser } from './protocol.js';
import { createRestApi, type FetchLike, type RestApi } from './rest-api.js';

/** The tokens of a logged-in user (the refresh token rotates: each refresh replaces it). */
export interface Session {
  readonly token: string;
  readonly user: PublicUser;
  readonly refreshToken?: string;
}

export interface ChatClientOptions {
  /** The server, e.g. `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  /** A session to start with (e.g. kept from an earlier login). Default none: call `login`. */
  readonly session?: Session;
  /**
   * Gets a fresh session when the token is refused (close 4001) and the refresh token
   * cannot help (none, expired, revoked): e.g. log in again with a kept password, or ask
   * the user. Resolve undefined to give up. Default none.
   */
  readonly reauthenticate?: (api: RestApi) => Promise<Session | undefined>;
  /** Called whenever the session changes (login, refresh, logout): persist it here. Default none. */
  readonly onSession?: (session: Session | undefined) => void;
  /** Default: the global fetch. */
  readonly fetch?: FetchLike;
}

export interface ChatClient {
  /** The REST API, authenticated with the current session's token. */
  readonly api: RestApi;
  session(): Session | undefined;
  /** Logs in and keeps the session. */
  login(userId: string, password: string): Promise<Session>;
  /** Registers (USER_EXISTS when taken), then logs in. */
  register(userId: string, password: string, displayName?: string): Promise<Session>;
  /** Revokes the token and the refresh token's family on the server and forgets the session (close connections first). */
  logout(): Promise<void>;
  /**
   * A new session: the refresh token (POST /api/auth/refresh, rotating), else
   * `reauthenticate`. Resolves false when neither can. Concurrent calls share one refresh
   * (two refreshes with one token would look like theft and end the session).
   */
  refresh(): Promise<boolean>;
  /**
   * A live connection using this client's session: it refreshes on 4001 and checks the
   * token (GET /api/me) when a socket is refused before opening. Call `connect()` on it.
   */
  connect(options?: Omit<ChatConnectionOptions, 'url' | 'token' | 'refreshToken' | 'verifyToken'>): ChatConnection;
}

function toSession(login: LoginResponse): Session {
  return { token: login.token, user: login.user, ...(typeof login.refreshToken === 'string' ? { refreshToken: login.refreshToken } : {}) };
}

/**
 * Session handling around the REST API and the connection: one place that holds the
 * token, so a refresh done for the socket is used by REST calls too.
 */
export function createChatClient({ baseUrl, session: initial, reauthenticate, onSession, fetch }: ChatClientOptions): ChatClient {
  let session = initial;
  const api = createRestApi({ baseUrl, token: () => session?.token, ...(fetch === undefined ? {} : { fetch }) });
  const setSession = (next: Session | undefined): void => {
    session = next;
    onSession?.(next);
  };
  let refreshing: Promise<boolean> | undefined;

  const refreshOnce = async (): Promise<boolean> => {
    const refreshToken = session?.refreshToken;
    if (refreshToken !== undefined) {
      try {
        const answer = await api.refresh(refreshToken);
        if (session !== undefined) setSession({ ...session, token: answer.token, refreshToken: answer.refreshToken });
        return true;
      } catch (error) {
        if (!(error instanceof ChatError) || error.status === 0) return false;
        // Refused (rotated, revoked, expired): fall through to reauthenticate.
      }
    }
    if (reauthenticate === undefined) return false;
    const next = await reauthenticate(api);
    if (next === undefined) return false;
    setSession(next);
    return true;
  };

  const refresh = (): Promise<boolean> => {
    // Concurrent callers (several connections closed with 4001 at once) share one refresh.
    refreshing ??= refreshOnce().finally(() => (refreshing = undefined));
    return refreshing;
  };

  return {
    api,
    session: () => session,
    async login(userId, password) {
      const next = toSession(await api.login(userId, password));
      setSession(next);
      return next;
    },
    async register(userId, password, displayName) {
      await api.register({ userId, password, ...(displayName === undefined ? {} : { displayName }) });
      const next = toSession(await api.login(userId, password));
      setSession(next);
      return next;
    },
    async logout() {
      try {
        if (session !== undefined) await api.logout(session.refreshToken);
      } finally {
        setSession(undefined);
      }
    },
    refresh,
    connect(options = {}) {
      return createChatConnection({
        ...options,
        url: baseUrl,
        token: () => session?.token,
        refreshToken: refresh,
        verifyToken: async () => {
          try {
            await api.me();
            return true;
          } catch (error) {
            // Only a 401 says the token is bad; anything else (server down) is a reason to retry.
            return !(error instanceof ChatError && error.status === 401);
          }
        },
      });
    },
  };
}
