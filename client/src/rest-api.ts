import { ChatError } from './chat-error.js';
import type {
  CreateRoomBody,
  DmResponse,
  LoginResponse,
  Message,
  MessagePageResponse,
  MessagesQuery,
  PublicUser,
  RefreshResponse,
  RegisterBody,
  RoomCreatedResponse,
  RoomListResponse,
  RoomSummary,
  RoomsQuery,
  UserSearchResponse,
} from './protocol.js';

/** What the REST client needs of `fetch`: the subset every runtime's fetch has (Node 18+, browsers). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ readonly status: number; readonly ok: boolean; json(): Promise<unknown> }>;

export interface RestApiOptions {
  /** The server, e.g. `http://127.0.0.1:3000` (a path prefix is kept). */
  readonly baseUrl: string;
  /** The current access token, read on every call (so a login or refresh takes effect at once). Default: none. */
  readonly token?: () => string | undefined;
  /** Default: the global fetch. */
  readonly fetch?: FetchLike;
}

/** The HTTP methods of the API. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function isErrorBody(body: unknown): body is { error: { code: string; message: string } } {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

/**
 * The REST API of api.md, typed with the contract's types (protocol.ts). Every failure is
 * a ChatError: the server's code and status, or NETWORK (status 0) when it cannot be
 * reached. Nothing is retried here: REST calls are the application's to repeat.
 *
 * `request` is the typed escape hatch for routes without a method here.
 */
export function createRestApi({ baseUrl, token = () => undefined, fetch: fetchImpl }: RestApiOptions) {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = fetchImpl ?? ((url, init) => (globalThis as unknown as { fetch: FetchLike }).fetch(url, init));

  /** One call: JSON in, JSON out, a ChatError for anything but 2xx. */
  async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await doFetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      throw new ChatError({
        code: 'NETWORK',
        message: `the server cannot be reached (${error instanceof Error ? error.message : String(error)})`,
        retriable: true,
      });
    }
    if (res.status === 204) return undefined as T;
    const parsed: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      if (isErrorBody(parsed)) throw new ChatError({ code: parsed.error.code, message: parsed.error.message, status: res.status });
      throw new ChatError({ code: 'HTTP', message: `HTTP ${res.status}`, status: res.status, retriable: res.status >= 500 });
    }
    return parsed as T;
  }

  const room = (roomId: string) => `/api/rooms/${encodeURIComponent(roomId)}`;

  return {
    request,
    /** POST /api/auth/register: 201 with the new user; USER_EXISTS when taken. */
    register: (body: RegisterBody): Promise<PublicUser> => request('POST', '/api/auth/register', body),
    /** POST /api/auth/login: a token (INVALID_CREDENTIALS for an unknown user and a wrong password alike). */
    login: (userId: string, password: string): Promise<LoginResponse> => request('POST', '/api/auth/login', { userId, password }),
    /**
     * POST /api/auth/refresh: a new access token and the refresh token's successor; the one
     * given stops working. INVALID_REFRESH_TOKEN when it is unknown, expired, revoked or was
     * used already (which revokes its whole family: log in again).
     */
    refresh: (refreshToken: string): Promise<RefreshResponse> => request('POST', '/api/auth/refresh', { refreshToken }),
    /** POST /api/auth/logout: the token stops working everywhere, and so does the refresh token's family when given. */
    logout: (refreshToken?: string): Promise<void> =>
      request('POST', '/api/auth/logout', refreshToken === undefined ? undefined : { refreshToken }),
    /** GET /api/users?q=&limit=: users whose userId or displayName starts with `q` (1..64 characters), ignoring case; limit ≤ 50 (default 20). */
    searchUsers: async (q: string, limit?: number): Promise<readonly PublicUser[]> => {
      const params = new URLSearchParams({ q });
      if (limit !== undefined) params.set('limit', String(limit));
      return (await request<UserSearchResponse>('GET', `/api/users?${params.toString()}`)).users;
    },
    /** GET /api/me. */
    me: (): Promise<PublicUser> => request('GET', '/api/me'),
    /** GET /api/rooms?cursor=&limit=: one page of the user's rooms, oldest first; `nextCursor` when more follow. */
    listRooms: (query: RoomsQuery = {}): Promise<RoomListResponse> => {
      const params = new URLSearchParams();
      if (query.cursor !== undefined) params.set('cursor', query.cursor);
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      const qs = params.toString();
      return request('GET', `/api/rooms${qs ? `?${qs}` : ''}`);
    },
    /** All the user's rooms with each one's newest seq: every page of GET /api/rooms, walked in order. */
    rooms: async (): Promise<readonly RoomSummary[]> => {
      const all: RoomSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = await request<RoomListResponse>(
          'GET',
          `/api/rooms?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        all.push(...page.rooms);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return all;
    },
    /**
     * POST /api/dms: the one direct room with `userId` (created if there is none; both hear
     * of a new one as a `room` event). DM_WITH_SELF, USER_NOT_FOUND.
     */
    createDm: (userId: string): Promise<DmResponse> => request('POST', '/api/dms', { userId }),
    /** PATCH /api/rooms/:roomId (a member): the room after it; ROOM_IS_DM for a direct room. */
    renameRoom: (roomId: string, name: string): Promise<RoomSummary> => request('PATCH', room(roomId), { name }),
    /**
     * DELETE /api/rooms/:roomId/members/:userId: the room's creator removes `userId`
     * (NOT_ROOM_CREATOR otherwise; MEMBER_NOT_FOUND, ROOM_IS_DM).
     */
    removeMember: (roomId: string, userId: string): Promise<void> =>
      request('DELETE', `${room(roomId)}/members/${encodeURIComponent(userId)}`),
    /** The same route for oneself: leave the room (`ownUserId` is the caller's userId). */
    leaveRoom: (roomId: string, ownUserId: string): Promise<void> =>
      request('DELETE', `${room(roomId)}/members/${encodeURIComponent(ownUserId)}`),
    /** POST /api/rooms: the creator is a member; members hear of it as a `room` event. */
    createRoom: (body: CreateRoomBody): Promise<RoomCreatedResponse> => request('POST', '/api/rooms', body),
    /** POST /api/rooms/:roomId/members (the caller must be a member). */
    addMember: (roomId: string, userId: string): Promise<void> => request('POST', `${room(roomId)}/members`, { userId }),
    /**
     * POST /api/rooms/:roomId/read: the room is read up to `seq` (the cursor only moves
     * forward; a lower seq is a no-op). READ_PAST_END past the room's last seq.
     */
    markRead: (roomId: string, seq: number): Promise<void> => request('POST', `${room(roomId)}/read`, { seq }),
    /** GET /api/rooms/:roomId/messages: a page in seq order (limit ≤ 200, default 50). */
    history: async (roomId: string, query: MessagesQuery = {}): Promise<readonly Message[]> => {
      const params = new URLSearchParams();
      for (const key of ['afterSeq', 'beforeSeq', 'limit'] as const) {
        const value = query[key];
        if (value !== undefined) params.set(key, String(value));
      }
      const qs = params.toString();
      return (await request<MessagePageResponse>('GET', `${room(roomId)}/messages${qs ? `?${qs}` : ''}`)).messages;
    },
  };
}

export type RestApi = ReturnType<typeof createRestApi>;
