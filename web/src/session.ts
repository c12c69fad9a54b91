import type { Login, PublicUser } from './api';

/** A logged-in user as the pages keep it. */
export interface Session {
  readonly token: string;
  readonly user: PublicUser;
}

/**
 * The session of one tab, in sessionStorage: it survives a reload, and two tabs of one
 * browser can be two users (the quickest way to try the chat alone).
 */
export function createSessionStore({ key }: { /** The storage key; each page has its own. */ key: string }) {
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
      const session: Session = { token: login.token, user: login.user };
      sessionStorage.setItem(key, JSON.stringify(session));
      return session;
    },
    clear(): void {
      sessionStorage.removeItem(key);
    },
  };
}
