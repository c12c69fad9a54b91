/**
 * The wire contract (api.md) as plain TypeScript types, with no runtime dependency.
 *
 * WHY plain types and not the server's zod schemas: the package must run with nothing
 * but a WebSocket, so it cannot pull in zod. The server's schemas in src/protocol stay
 * the source of truth; test/unit/client-protocol-drift.test.ts type-checks that every
 * type here is mutually assignable with the server's `z.infer` type (and that the
 * constants are equal), so the two cannot drift: a change on either side fails the test.
 */

/** A stored chat message. `seq` is the room's sequence: strictly increasing by 1, the same order for every member. */
export interface Message {
  readonly id: string;
  readonly roomId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly text: string;
  /** ISO 8601, UTC. */
  readonly ts: string;
  readonly clientMsgId: string;
}

/** Longest message text, in characters (the server refuses longer). */
export const MAX_TEXT_LENGTH = 4_000;

/** The kinds of room change a `room` frame reports. */
export type RoomEvent = 'created' | 'member.added';

/** A room as a `room` frame carries it: a snapshot after the change (it replaces, never patches). */
export interface RoomSnapshot {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
}

/** Client → server frames. */
export type ClientFrame =
  | { readonly type: 'send'; readonly roomId: string; readonly clientMsgId: string; readonly text: string }
  | { readonly type: 'resume'; readonly rooms: Readonly<Record<string, number>> }
  | { readonly type: 'typing'; readonly roomId: string }
  | { readonly type: 'ping' }
  /** Everything in the room up to `seq` is read (the read cursor only moves forward). */
  | { readonly type: 'read'; readonly roomId: string; readonly seq: number };

/** Server → client frames. */
export type ServerFrame =
  | { readonly type: 'ready'; readonly userId: string; readonly connectionId: string }
  | { readonly type: 'ack'; readonly clientMsgId: string; readonly message: Message }
  | { readonly type: 'message'; readonly message: Message }
  | { readonly type: 'presence'; readonly userId: string; readonly online: boolean }
  | { readonly type: 'typing'; readonly roomId: string; readonly userId: string }
  | { readonly type: 'announcement'; readonly text: string }
  | {
      readonly type: 'room';
      /** The change's id: the same for every member and on every redelivery. */
      readonly id: string;
      readonly event: RoomEvent;
      readonly room: RoomSnapshot;
      readonly by: string;
      readonly member?: string | undefined;
    }
  /** The user's own read cursor moved (from another of its sockets, or REST). */
  | { readonly type: 'read'; readonly roomId: string; readonly seq: number }
  /** Another member has read the room up to `seq` (not sent in very large rooms). */
  | { readonly type: 'receipt'; readonly roomId: string; readonly userId: string; readonly seq: number }
  | { readonly type: 'pong' }
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly ref?: string | undefined };

/** WebSocket close codes of the contract. */
export const CloseCodes = {
  NORMAL: 1000,
  /** The instance is going away: reconnect elsewhere and resume. */
  GOING_AWAY: 1001,
  /** A frame over the server's size limit. */
  MESSAGE_TOO_BIG: 1009,
  SERVER_ERROR: 1011,
  /** The token expired or was revoked: do not reconnect with it. */
  TOKEN_INVALID: 4001,
  /** Policy: rate or abuse. */
  POLICY: 4008,
} as const;

/**
 * Stable error codes of the public API; `retriable` says whether the same request may
 * succeed later unchanged. Clients branch on `code`: codes are never renamed or reused.
 */
export const ErrorCodes = {
  VALIDATION: { status: 400, retriable: false },
  INVALID_JSON: { status: 400, retriable: false },
  PASSWORD_TOO_LONG: { status: 400, retriable: false },
  /** A read cursor moved past the room's last seq (`read` frame, POST /api/rooms/:roomId/read): nothing changed. */
  READ_PAST_END: { status: 400, retriable: false },
  UNAUTHORIZED: { status: 401, retriable: false },
  INVALID_CREDENTIALS: { status: 401, retriable: false },
  TOKEN_EXPIRED: { status: 401, retriable: false },
  TOKEN_REVOKED: { status: 401, retriable: false },
  FORBIDDEN: { status: 403, retriable: false },
  NOT_A_MEMBER: { status: 403, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  USER_NOT_FOUND: { status: 404, retriable: false },
  ROOM_NOT_FOUND: { status: 404, retriable: false },
  USER_EXISTS: { status: 409, retriable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  RATE_LIMITED: { status: 429, retriable: true },
  /** A socket cap: per client IP on an instance (before the upgrade), or per user on all instances (close 4008 with this code in the reason). */
  CONNECTION_LIMIT: { status: 429, retriable: true },
  INTERNAL: { status: 500, retriable: false },
  UNAVAILABLE: { status: 503, retriable: true },
  TIMEOUT: { status: 504, retriable: true },
} as const;

/** A code of the server's API. */
export type ErrorCode = keyof typeof ErrorCodes;

// ---- REST bodies and answers -------------------------------------------------------

/** POST /api/auth/register body. */
export interface RegisterBody {
  readonly userId: string;
  readonly password: string;
  readonly displayName?: string | undefined;
}

/** POST /api/auth/login body. */
export interface LoginBody {
  readonly userId: string;
  readonly password: string;
}

/** POST /api/rooms body; the creator is always a member. */
export interface CreateRoomBody {
  readonly name: string;
  readonly members?: readonly string[] | undefined;
}

/** POST /api/rooms/:roomId/members body. */
export interface AddMemberBody {
  readonly userId: string;
}

/** POST /api/rooms/:roomId/read body. */
export interface ReadBody {
  readonly seq: number;
}

/** A user as others see it. */
export interface PublicUser {
  readonly userId: string;
  readonly displayName: string;
}

/** POST /api/auth/login answer. v1.1 adds `refreshToken` and `refreshExpiresIn` (optional until the server has them). */
export interface LoginResponse {
  readonly token: string;
  /** Seconds until the token expires. */
  readonly expiresIn: number;
  readonly user: PublicUser;
}

/** POST /api/rooms answer. */
export interface RoomCreatedResponse {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
}

/** One room of GET /api/rooms. */
export interface RoomSummary {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
  /** The room's newest seq (0 when empty). */
  readonly lastSeq: number;
  /** The caller's read cursor in the room (0: nothing read). */
  readonly lastReadSeq: number;
  /** lastSeq − lastReadSeq, never negative. */
  readonly unread: number;
}

/** GET /api/rooms answer. */
export interface RoomListResponse {
  readonly rooms: readonly RoomSummary[];
}

/** GET /api/rooms/:roomId/messages answer, in seq order. */
export interface MessagePageResponse {
  readonly messages: readonly Message[];
}

/** GET /api/rooms/:roomId/messages query; `limit` ≤ MAX_MESSAGE_PAGE. */
export interface MessagesQuery {
  readonly afterSeq?: number | undefined;
  readonly beforeSeq?: number | undefined;
  readonly limit?: number | undefined;
}

/** Most messages one history page holds. */
export const MAX_MESSAGE_PAGE = 200;

/** Every REST error body. */
export interface ErrorResponse {
  readonly error: { readonly code: string; readonly message: string };
}
