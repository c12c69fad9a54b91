import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ChatError, toChatError } from '../../domain/errors';

/** `{"error": {"code", "message"}}` (api.md). */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Unknown routes: 404 NOT_FOUND in the API's error shape. */
export const notFoundHandler: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody('NOT_FOUND', 'no such route'));
};

/** Body-parser errors carry a `type`; map them to stable codes. */
function fromBodyParser(error: unknown): ChatError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return new ChatError('INVALID_JSON', 'request body is not valid JSON');
    case 'entity.too.large':
      return new ChatError('PAYLOAD_TOO_LARGE', 'request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ChatError('VALIDATION', 'unsupported body encoding');
    default:
      return undefined;
  }
}

/**
 * The last handler: every error becomes the API's error body with its code's status.
 * Internal errors are logged in full and answered with a generic message, never a stack.
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const err = fromBodyParser(error) ?? toChatError(error);
  if (err.code === 'INTERNAL') req.log.error({ err: error }, 'internal error');
  else if (err.retriable) req.log.warn({ code: err.code, err: err.message }, 'request failed (retriable)');
  if (res.headersSent) return;
  if (err.retriable) {
    // An error may say how long to wait (a rate limit); others are worth a retry in a second.
    const wait = err.details?.['retryAfterSeconds'];
    res.setHeader('Retry-After', String(typeof wait === 'number' && Number.isFinite(wait) && wait >= 1 ? Math.ceil(wait) : 1));
  }
  const message = err.code === 'INTERNAL' ? 'internal error' : err.message;
  res.status(err.status).json(errorBody(err.code, message));
};
