import type { ServerFrame } from '../protocol/frames';
import type { CloseCode } from '../protocol/close-codes';

/**
 * A client's live connection on this gateway: a WebSocket or a read-only Server-Sent
 * Events stream. The rest of the gateway speaks frames to it and does not care which.
 */
export interface ClientConnection {
  readonly id: string;
  readonly userId: string;
  readonly kind: 'ws' | 'sse';
  /** The token id the connection was opened with: revoking it closes the connection. */
  readonly jti: string;
  /** Writes a frame. Returns false when the connection is closed or too far behind (and is being closed). */
  send(frame: ServerFrame): boolean;
  close(code: CloseCode, reason: string): void;
}
