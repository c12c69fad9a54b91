import { DatabaseError } from 'pg';
import { ChatError, UnavailableError } from '../../domain/errors';

/** Prisma's known-request error codes this adapter maps (https://pris.ly/d/error-reference). */
const UNIQUE_VIOLATION = 'P2002';
const FOREIGN_KEY_VIOLATION = 'P2003';
const RECORD_NOT_FOUND = 'P2025';
/** A raw statement failed: a violated constraint is reported with this code, not P2002/P2003. */
const RAW_QUERY_FAILED = 'P2010';
/** "Could not start a transaction in time" and "write conflict or deadlock": worth a retry. */
const RETRIABLE_QUERY_ERRORS = new Set(['P2028', 'P2034']);

/**
 * Driver adapter failures that say "the database could not answer now", for errors that
 * carry no P1xxx code (a raw query reports every failure as P2010, the cause inside).
 */
const RETRIABLE_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionWriteConflict',
  'TlsConnectionError',
]);
/** PostgreSQL SQLSTATE classes worth a retry: connection (08), rollback (40), resources (53), operator intervention (57). */
const RETRIABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);

function retriableAdapterError(error: unknown): boolean {
  const cause = prop(prop(prop(error, 'meta'), 'driverAdapterError'), 'cause');
  const kind = prop(cause, 'kind');
  if (typeof kind === 'string' && RETRIABLE_ADAPTER_KINDS.has(kind)) return true;
  const sqlState = prop(cause, 'code');
  return kind === 'postgres' && typeof sqlState === 'string' && retriableSqlState(sqlState);
}

function retriableSqlState(sqlState: string): boolean {
  return RETRIABLE_SQLSTATE_CLASSES.has(sqlState.slice(0, 2));
}

/** What a violated constraint means, by its name in prisma/migrations (see constraintOf). */
const CONSTRAINT_ERRORS: Record<string, (what: string, cause: unknown) => ChatError> = {
  users_pkey: () => new ChatError('USER_EXISTS', 'user already exists'),
  rooms_pkey: () => new ChatError('INTERNAL', 'room id already exists'),
  // Two appends of one (senderId, clientMsgId) raced and the other one won: a retry finds it.
  messages_sender_id_client_msg_id_key: (what, cause) =>
    new UnavailableError(`${what}: a concurrent append of the same clientMsgId won; retry`, cause),
  memberships_user_id_fkey: () => new ChatError('USER_NOT_FOUND', 'user does not exist'),
  messages_sender_id_fkey: () => new ChatError('USER_NOT_FOUND', 'sender does not exist'),
  memberships_room_id_fkey: () => new ChatError('ROOM_NOT_FOUND', 'room does not exist'),
  messages_room_id_fkey: () => new ChatError('ROOM_NOT_FOUND', 'room does not exist'),
  refresh_token_families_user_id_fkey: () => new ChatError('USER_NOT_FOUND', 'user does not exist'),
};

/** `value[key]` of an unknown value, or undefined. */
function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = prop(error, 'code');
  return typeof code === 'string' ? code : undefined;
}

/**
 * Every failure as a ChatError: known constraint violations by meaning, a missing record
 * by its model, other query errors (P2xxx) as INTERNAL, and everything else (connection
 * refused, pool exhausted, P1xxx) as a retriable UnavailableError.
 */
export function toStoreError(error: unknown, what: string): ChatError {
  if (error instanceof ChatError) return error;
  if (error instanceof DatabaseError && error.code !== undefined) return fromPgDatabaseError(error, error.code, what);
  const code = errorCode(error);
  const constraint = constraintOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if ((code === UNIQUE_VIOLATION || code === FOREIGN_KEY_VIOLATION || code === RAW_QUERY_FAILED) && constraint !== undefined) {
    const known = CONSTRAINT_ERRORS[constraint];
    if (known !== undefined) return known(what, error);
  }
  if (code === RECORD_NOT_FOUND && prop(prop(error, 'meta'), 'modelName') === 'Room')
    return new ChatError('ROOM_NOT_FOUND', 'room does not exist');
  if ((code !== undefined && RETRIABLE_QUERY_ERRORS.has(code)) || retriableAdapterError(error))
    return new UnavailableError(`${what}: ${code}, retry`, error);
  if (code !== undefined && code.startsWith('P2'))
    return new ChatError('INTERNAL', `${what}: ${code}${constraint === undefined ? '' : ` (${constraint})`}`, { cause: error });
  return new UnavailableError(
    `${what}: database unavailable (${message.split('\n').find((l) => l.trim() !== '') ?? code ?? 'unknown'})`,
    error,
  );
}

/**
 * The violated unique constraint's name. Prisma 7 with a driver adapter reports it in
 * `meta.driverAdapterError.cause.constraint.index` (there is no `meta.target` as with the
 * native engine). The PGlite adapter reports the columns instead, so the name is read from
 * PostgreSQL's own message, whose wording is fixed (PGlite runs with C messages).
 */
export function constraintOf(error: unknown): string | undefined {
  const cause = prop(prop(prop(error, 'meta'), 'driverAdapterError'), 'cause');
  const index = prop(prop(cause, 'constraint'), 'index');
  if (typeof index === 'string') return index;
  const original = prop(cause, 'originalMessage');
  return typeof original === 'string' ? /constraint "([^"]+)"/.exec(original)?.[1] : undefined;
}

/**
 * A PostgreSQL error as node-postgres reports it (a statement run on the pool itself, not
 * through Prisma): its SQLSTATE, and the violated `constraint` if any. A socket error
 * (ECONNREFUSED), a pool timeout or a DatabaseError without a SQLSTATE is left to the rest
 * of toStoreError (retriable).
 */
function fromPgDatabaseError(error: DatabaseError, sqlState: string, what: string): ChatError {
  const known = error.constraint === undefined ? undefined : CONSTRAINT_ERRORS[error.constraint];
  if (known !== undefined) return known(what, error);
  if (retriableSqlState(sqlState)) return new UnavailableError(`${what}: SQLSTATE ${sqlState}, retry`, error);
  return new ChatError('INTERNAL', `${what}: SQLSTATE ${sqlState}${error.constraint === undefined ? '' : ` (${error.constraint})`}`, {
    cause: error,
  });
}
