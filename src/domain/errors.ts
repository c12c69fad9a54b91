import { ErrorCodes, type ErrorCode } from '../protocol/error-codes';

/**
 * The one error hierarchy. Every error carries a stable `code` and says whether it is
 * `retriable`: consumers retry retriable errors with backoff and send the others to the
 * dead-letter topic at once; the HTTP layer maps `code` to a status and a body.
 */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retriable?: boolean; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? ErrorCodes[code].retriable;
    this.details = options.details === undefined ? undefined : Object.freeze({ ...options.details });
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

/** Input that can never succeed as sent (schema, size, format). Never retried. */
export class ValidationError extends ChatError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('VALIDATION', message, details === undefined ? {} : { details });
  }
}

/** A dependency (Kafka, PostgreSQL, Redis) is unreachable or refused. Retried. */
export class UnavailableError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause, retriable: true });
  }
}

/** No answer within the allotted time. Retried; the work may or may not have happened. */
export class TimeoutError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super('TIMEOUT', message, { cause, retriable: true });
  }
}

/** Turns anything thrown into a ChatError; unknown errors are internal and not retriable. */
export function toChatError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ChatError('INTERNAL', message, { cause: error });
}
