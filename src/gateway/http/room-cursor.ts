import { ValidationError } from '../../domain/errors';

/**
 * GET /api/rooms's `nextCursor`: opaque to clients (base64url of a small versioned JSON),
 * so the listing order and what marks a place in it may change without breaking them.
 * Today it names the last room of the page; the store lists the rooms after it.
 */
export function encodeRoomCursor(afterRoomId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterRoomId }), 'utf8').toString('base64url');
}

/** The room a cursor points after; VALIDATION for anything this server did not make. */
export function decodeRoomCursor(cursor: string): string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('cursor: not a cursor this server made');
  }
  if (typeof value === 'object' && value !== null && 'v' in value && value.v === 1 && 'after' in value && typeof value.after === 'string')
    return value.after;
  throw new ValidationError('cursor: not a cursor this server made');
}
