/**
 * WebSocket close codes (api.md). A client that sees any code not listed as final may
 * reconnect (to any instance) and resume.
 */
export const CloseCodes = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The instance is going away (shutdown): reconnect elsewhere and resume. */
  GOING_AWAY: 1001,
  /** A frame over the size limit. */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server error. */
  SERVER_ERROR: 1011,
  /** The token expired or was revoked: log in again; do not reconnect with it. */
  TOKEN_INVALID: 4001,
  /** Policy: rate or abuse. */
  POLICY: 4008,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];
