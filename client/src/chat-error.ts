import { ErrorCodes, type ErrorCode } from './protocol.js';

/**
 * Codes the client itself reports, besides the server's (protocol.ts ErrorCodes):
 * - NETWORK: the server could not be reached (REST);
 * - HTTP: an answer without the contract's error body;
 * - FRAME_TOO_LARGE: refused locally, or the server closed with 1009;
 * - POLICY: the server closed the socket with 4008 (rate or abuse);
 * - AUTH_LOST: the token was refused and could not be refreshed;
 * - CLOSED: the connection was closed by the application.
 */
export type ClientErrorCode = 'NETWORK' | 'HTTP' | 'FRAME_TOO_LARGE' | 'POLICY' | 'AUTH_LOST' | 'CLOSED';

/**
 * Every failure the package reports: a REST error answer, a refused frame, or a
 * client-side condition. Branch on `code`; `retriable` says whether the same request may
 * succeed later unchanged (the connection already retries retriable sends itself).
 */
export class ChatError extends Error {
  readonly code: ErrorCode | ClientErrorCode | (string & {});
  /** HTTP status of a REST failure; 0 when there was none. */
  readonly status: number;
  readonly retriable: boolean;

  constructor({
    code,
    message,
    status = 0,
    retriable,
  }: {
    code: string;
    message: string;
    /** Default 0. */ status?: number;
    /** Default: the code's own (ErrorCodes), else false. */ retriable?: boolean;
  }) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.status = status;
    this.retriable = retriable ?? (isServerErrorCode(code) ? ErrorCodes[code].retriable : false);
  }
}

/** Whether `code` is one of the server's stable codes. */
export function isServerErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ErrorCodes, code);
}
