import type { Message } from '../../src/protocol/message';
import type { ClusterView } from '../../src/protocol/instance-view';

/** An error answer of the REST API: `{"error": {"code", "message"}}` (api.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface PublicUser {
  readonly userId: string;
  readonly displayName: string;
}

export interface Room {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
  readonly lastSeq: number;
}

export interface Login {
  readonly token: string;
  readonly expiresIn: number;
  readonly user: PublicUser;
}

function isErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = body.error;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && 'message' in error && typeof error.message === 'string';
}

/**
 * The REST API (api.md) for the pages, same origin. `token` is read on every call, so a
 * login or logout takes effect at once. Every failure is an ApiError; a network failure
 * is one with status 0 and code NETWORK.
 */
export function createApi({ token }: { token: () => string | undefined }) {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', `the server cannot be reached (${error instanceof Error ? error.message : String(error)})`);
    }
    if (res.status === 204) return undefined as T;
    const parsed: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      if (isErrorBody(parsed)) throw new ApiError(res.status, parsed.error.code, parsed.error.message);
      throw new ApiError(res.status, 'HTTP', `HTTP ${res.status}`);
    }
    return parsed as T;
  };
  return {
    register: (userId: string, password: string, displayName?: string) =>
      call<PublicUser>('POST', '/api/auth/register', { userId, password, ...(displayName ? { displayName } : {}) }),
    login: (userId: string, password: string) => call<Login>('POST', '/api/auth/login', { userId, password }),
    logout: () => call<void>('POST', '/api/auth/logout'),
    me: () => call<PublicUser>('GET', '/api/me'),
    rooms: async () => (await call<{ rooms: Room[] }>('GET', '/api/rooms')).rooms,
    createRoom: (name: string, members: readonly string[]) => call<Room>('POST', '/api/rooms', { name, members }),
    addMember: (roomId: string, userId: string) => call<void>('POST', `/api/rooms/${encodeURIComponent(roomId)}/members`, { userId }),
    messages: async (roomId: string, query: { beforeSeq?: number; afterSeq?: number; limit: number }) => {
      const params = new URLSearchParams({ limit: String(query.limit) });
      if (query.beforeSeq !== undefined) params.set('beforeSeq', String(query.beforeSeq));
      if (query.afterSeq !== undefined) params.set('afterSeq', String(query.afterSeq));
      return (await call<{ messages: Message[] }>('GET', `/api/rooms/${encodeURIComponent(roomId)}/messages?${params}`)).messages;
    },
    cluster: () => call<ClusterView>('GET', '/api/admin/cluster'),
  };
}

export type Api = ReturnType<typeof createApi>;
