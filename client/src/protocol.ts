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
  /** On an edit or delete event (v1.1): the id of the (original) message it changes; `text` is the new text ('' for a delete). */
  readonly edits?: string | undefined;
  /** On a delete event: the message named by `edits` is deleted. On an original read back: it has been deleted (text ''). */
  readonly deleted?: true | undefined;
  /** On an original read back that was edited: when its last edit was stored (its text is the current one). */
  readonly editedAt?: string | undefined;
}

/** Longest message text, in characters (the server refuses longer). */
export const MAX_TEXT_LENGTH = 4_000;

/**
 * The kinds of room change a `room` frame reports. A `member.removed` frame whose `member`
 * is the receiving user says it left or was removed: drop the room.
 */
export type RoomEvent = 'created' | 'member.added' | 'renamed' | 'member.removed';

/** A group room, or the one direct room of a pair (POST /api/dms). */
export type RoomKind = 'group' | 'dm';

/** A room as a `room` frame carries it: a snapshot after the change (it replaces, never patches). */
export interface RoomSnapshot {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
  /** Absent from servers before v1.1: a group room. */
  readonly kind?: RoomKind | undefined;
}

/** Client → server frames. */
export type ClientFrame =
  | { readonly type: 'send'; readonly roomId: string; readonly clientMsgId: string; readonly text: string }
  | { readonly type: 'resume'; readonly rooms: Readonly<Record<string, number>> }
  | { readonly type: 'typing'; readonly roomId: string }
  | { readonly type: 'ping' }
  | {
      readonly type: 'edit';
      readonly roomId: string;
      readonly messageId: string;
      readonly text: string;
      /** Makes a retry safe and asks for an `ack` (an extension of api.md). */
      readonly clientMsgId?: string | undefined;
    }
  | { readonly type: 'delete'; readonly roomId: string; readonly messageId: string; readonly clientMsgId?: string | undefined }
  /** Everything in the room up to `seq` is read (the read cursor only moves forward). */
  | { readonly type: 'read'; readonly roomId: string; readonly seq: number };

/** Server → client frames. */
export type ServerFrame =
  | { readonly type: 'ready'; readonly userId: string; readonly connectionId: string }
  | { readonly type: 'ack'; readonly clientMsgId: string; readonly message: Message }
  | { readonly type: 'message'; readonly message: Message }
  | { readonly type: 'presence'; readonly userId: string; readonly online: boolean }
  /**
   * Right after `ready`: the co-members' presence then (at most the server's cap of them;
   * users not listed are unknown). A `presence` frame that arrives after `ready` but before
   * the snapshot is newer than the snapshot's entry for that user.
   */
  | { readonly type: 'presence.snapshot'; readonly users: readonly { readonly userId: string; readonly online: boolean }[] }
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
  /** POST /api/dms naming oneself. */
  DM_WITH_SELF: { status: 400, retriable: false },
  /** A read cursor moved past the room's last seq (`read` frame, POST /api/rooms/:roomId/read): nothing changed. */
  READ_PAST_END: { status: 400, retriable: false },
  UNAUTHORIZED: { status: 401, retriable: false },
  INVALID_CREDENTIALS: { status: 401, retriable: false },
  TOKEN_EXPIRED: { status: 401, retriable: false },
  TOKEN_REVOKED: { status: 401, retriable: false },
  /** A refresh token that is unknown, expired, revoked or already used (its family is then revoked). */
  INVALID_REFRESH_TOKEN: { status: 401, retriable: false },
  FORBIDDEN: { status: 403, retriable: false },
  NOT_A_MEMBER: { status: 403, retriable: false },
  /** Removing another member is for the room's creator only. */
  NOT_ROOM_CREATOR: { status: 403, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  USER_NOT_FOUND: { status: 404, retriable: false },
  ROOM_NOT_FOUND: { status: 404, retriable: false },
  /** The user to remove is not a member of the room. */
  MEMBER_NOT_FOUND: { status: 404, retriable: false },
  USER_EXISTS: { status: 409, retriable: false },
  /** A direct room cannot be renamed, joined or left. */
  ROOM_IS_DM: { status: 409, retriable: false },
  MESSAGE_NOT_FOUND: { status: 404, retriable: false },
  NOT_MESSAGE_SENDER: { status: 403, retriable: false },
  MESSAGE_DELETED: { status: 409, retriable: false },
  MESSAGE_NOT_EDITABLE: { status: 409, retriable: false },
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

/** POST /api/dms body: the other user. */
export interface OpenDmBody {
  readonly userId: string;
}

/** PATCH /api/rooms/:roomId body. */
export interface RenameRoomBody {
  readonly name: string;
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

/** POST /api/auth/login answer (v1.1 adds the refresh token). */
export interface LoginResponse {
  readonly token: string;
  /** Seconds until the token expires. */
  readonly expiresIn: number;
  /** Opaque; buys a new token with POST /api/auth/refresh, once (it rotates). */
  readonly refreshToken: string;
  /** Seconds until the refresh token expires. */
  readonly refreshExpiresIn: number;
  readonly user: PublicUser;
}

/** POST /api/auth/refresh answer: a new access token and the refresh token's successor (the one sent no longer works). */
export interface RefreshResponse {
  readonly token: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

/** GET /api/users answer: prefix matches on userId or displayName, in userId order. */
export interface UserSearchResponse {
  readonly users: readonly PublicUser[];
}

/** Longest `q` of GET /api/users, and most results it gives. */
export const MAX_USER_SEARCH_QUERY = 64;
export const MAX_USER_SEARCH_LIMIT = 50;

/** POST /api/rooms answer. */
export interface RoomCreatedResponse {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
}

/** One room of GET /api/rooms, and the PATCH /api/rooms/:roomId answer. */
export interface RoomSummary {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
  /** The room's newest seq (0 when empty). */
  readonly lastSeq: number;
  readonly kind: RoomKind;
  /** The caller's read cursor in the room (0: nothing read). */
  readonly lastReadSeq: number;
  /** lastSeq − lastReadSeq, never negative. */
  readonly unread: number;
}

/** GET /api/rooms answer: a page, oldest first; `nextCursor` only when more follow. */
export interface RoomListResponse {
  readonly rooms: readonly RoomSummary[];
  readonly nextCursor?: string | undefined;
}

/** GET /api/rooms query; `limit` ≤ MAX_ROOM_PAGE (default 50). */
export interface RoomsQuery {
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

/** Most rooms one GET /api/rooms page holds. */
export const MAX_ROOM_PAGE = 100;

/** POST /api/dms answer (201 created, 200 it existed). */
export interface DmResponse {
  readonly roomId: string;
  readonly kind: 'dm';
  readonly name: string;
  readonly members: readonly string[];
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
