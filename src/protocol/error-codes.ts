/**
 * Stable error codes of the public API (REST bodies, WebSocket error frames, reply
 * records). Clients branch on `code`, so a code is never renamed or reused; add new ones.
 *
 * `status` is the HTTP status a REST answer uses; `retriable` says whether the same
 * request may succeed later unchanged (the client or a consumer may retry it).
 */
export const ErrorCodes = {
  VALIDATION: { status: 400, retriable: false },
  INVALID_JSON: { status: 400, retriable: false },
  PASSWORD_TOO_LONG: { status: 400, retriable: false },
  /** POST /api/dms naming oneself: a direct room is between two users. */
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
  /** Removing another member is for the room's creator only (anyone may remove themself: leave). */
  NOT_ROOM_CREATOR: { status: 403, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  USER_NOT_FOUND: { status: 404, retriable: false },
  ROOM_NOT_FOUND: { status: 404, retriable: false },
  /** DELETE /api/rooms/:roomId/members/:userId for a user who is not a member of the room. */
  MEMBER_NOT_FOUND: { status: 404, retriable: false },
  USER_EXISTS: { status: 409, retriable: false },
  /** A direct room has a fixed name and its two members: it cannot be renamed, joined or left. */
  ROOM_IS_DM: { status: 409, retriable: false },
  /** Edit/delete (v1.1): no message with that id in that room. */
  MESSAGE_NOT_FOUND: { status: 404, retriable: false },
  /** Edit/delete (v1.1): the message is someone else's. */
  NOT_MESSAGE_SENDER: { status: 403, retriable: false },
  /** Edit/delete (v1.1): the message is deleted already. */
  MESSAGE_DELETED: { status: 409, retriable: false },
  /** Edit/delete (v1.1): the id names an edit or delete event; name the original message instead. */
  MESSAGE_NOT_EDITABLE: { status: 409, retriable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  RATE_LIMITED: { status: 429, retriable: true },
  /** A socket cap: per client IP on an instance (before the upgrade), or per user on all instances (close 4008 with this code in the reason). */
  CONNECTION_LIMIT: { status: 429, retriable: true },
  INTERNAL: { status: 500, retriable: false },
  UNAVAILABLE: { status: 503, retriable: true },
  TIMEOUT: { status: 504, retriable: true },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}
