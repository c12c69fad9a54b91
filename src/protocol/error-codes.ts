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
} as const satisfies Record<string, { status: number; retriable: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}
