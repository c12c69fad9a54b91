import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Message as MessageRow, type Prisma } from '../../generated/prisma/client';
import { ChatError, UnavailableError, ValidationError } from '../../domain/errors';
import { roomChangeEntries, type RoomChange } from '../../domain/room-changes';
import type { AppendOutcome, ChatStore, MessageQuery, NewMessage, RoomSummary } from '../../ports/chat-store';
import type { Outbox, OutboxEntry } from '../../ports/outbox';
import type { Message } from '../../protocol/message';
import { MessageQueryBounds } from '../../protocol/http-schemas';

/** Prisma's known-request error codes this adapter maps (https://pris.ly/d/error-reference). */
const UNIQUE_VIOLATION = 'P2002';
const FOREIGN_KEY_VIOLATION = 'P2003';
const RECORD_NOT_FOUND = 'P2025';
/** "Could not start a transaction in time" and "write conflict or deadlock": worth a retry. */
const RETRIABLE_QUERY_ERRORS = new Set(['P2028', 'P2034']);

/**
 * Driver adapter failures that say "the database could not answer now", for errors that
 * carry no P1xxx code (a raw query reports every failure as P2010, the cause inside).
 */
const RETRIABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict', 'TlsConnectionError']);
/** PostgreSQL SQLSTATE classes worth a retry: connection (08), rollback (40), resources (53), operator intervention (57). */
const RETRIABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);

function retriableAdapterError(error: unknown): boolean {
  const cause = prop(prop(prop(error, 'meta'), 'driverAdapterError'), 'cause');
  const kind = prop(cause, 'kind');
  if (typeof kind === 'string' && RETRIABLE_ADAPTER_KINDS.has(kind)) return true;
  const sqlState = prop(cause, 'code');
  return kind === 'postgres' && typeof sqlState === 'string' && RETRIABLE_SQLSTATE_CLASSES.has(sqlState.slice(0, 2));
}

/** What a violated constraint means, by its name in prisma/migrations (see constraintOf). */
const CONSTRAINT_ERRORS: Record<string, (what: string, cause: unknown) => ChatError> = {
  users_pkey: () => new ChatError('USER_EXISTS', 'user already exists'),
  rooms_pkey: () => new ChatError('INTERNAL', 'room id already exists'),
  // Two appends of one (senderId, clientMsgId) raced and the other one won: a retry finds it.
  messages_sender_id_client_msg_id_key: (what, cause) => new UnavailableError(`${what}: a concurrent append of the same clientMsgId won; retry`, cause),
  memberships_user_id_fkey: () => new ChatError('USER_NOT_FOUND', 'user does not exist'),
  messages_sender_id_fkey: () => new ChatError('USER_NOT_FOUND', 'sender does not exist'),
  memberships_room_id_fkey: () => new ChatError('ROOM_NOT_FOUND', 'room does not exist'),
  messages_room_id_fkey: () => new ChatError('ROOM_NOT_FOUND', 'room does not exist'),
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
function toStoreError(error: unknown, what: string): ChatError {
  if (error instanceof ChatError) return error;
  const code = errorCode(error);
  const constraint = constraintOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if ((code === UNIQUE_VIOLATION || code === FOREIGN_KEY_VIOLATION) && constraint !== undefined) {
    const known = CONSTRAINT_ERRORS[constraint];
    if (known !== undefined) return known(what, error);
  }
  if (code === RECORD_NOT_FOUND && prop(prop(error, 'meta'), 'modelName') === 'Room') return new ChatError('ROOM_NOT_FOUND', 'room does not exist');
  if ((code !== undefined && RETRIABLE_QUERY_ERRORS.has(code)) || retriableAdapterError(error)) return new UnavailableError(`${what}: ${code}, retry`, error);
  if (code !== undefined && code.startsWith('P2')) return new ChatError('INTERNAL', `${what}: ${code}${constraint === undefined ? '' : ` (${constraint})`}`, { cause: error });
  return new UnavailableError(`${what}: database unavailable (${message.split('\n').find((l) => l.trim() !== '') ?? code ?? 'unknown'})`, error);
}

/** Refuses a query no caller should send (the HTTP layer validates the same bounds). */
function checkQuery(query: MessageQuery): void {
  const parsed = MessageQueryBounds.safeParse(query);
  if (!parsed.success) throw new ValidationError(`bad message query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** Selects what a RoomSummary needs. */
const roomSummarySelect = { id: true, name: true, lastSeq: true, memberships: { select: { userId: true } } } as const satisfies Prisma.RoomSelect;

function toSummary(row: Prisma.RoomGetPayload<{ select: typeof roomSummarySelect }>): RoomSummary {
  return { roomId: row.id, name: row.name, members: sorted(row.memberships.map((m) => m.userId)), lastSeq: row.lastSeq };
}

function toMessage(row: MessageRow): Message {
  return { id: row.id, roomId: row.roomId, seq: row.seq, senderId: row.senderId, text: row.text, ts: row.createdAt.toISOString(), clientMsgId: row.clientMsgId };
}

/** A row of appendMessages' statement: one per entry, the message's columns null when nothing was written. */
interface AppendRow {
  ord: number;
  id: string | null;
  room_id: string | null;
  seq: number | null;
  sender_id: string | null;
  client_msg_id: string | null;
  text: string | null;
  /** A Date from pg; text from drivers that do not parse timestamptz in raw queries. */
  created_at: Date | string | null;
  created: boolean | null;
  room_exists: boolean;
  /** Sorted member ids; null for a room with none (or none at all). */
  members: string[] | null;
}

/** An outbox row as the claiming query returns it. */
interface OutboxRow {
  readonly id: string;
  readonly aggregate_id: string;
  readonly record_type: string;
  readonly key: string;
  readonly payload: unknown;
  readonly created_at: Date | string;
}

function toOutboxEntry(row: OutboxRow): OutboxEntry {
  // Drivers differ in what a raw query gives for jsonb and timestamptz: pg parses them,
  // other adapters may hand over text.
  const payload: unknown = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
  return { id: row.id, aggregateId: row.aggregate_id, recordType: row.record_type, key: row.key, payload, createdAt: new Date(row.created_at).getTime() };
}

/** Writes a room change's outbox rows inside the transaction that makes the change. */
async function writeRoomChange(tx: Prisma.TransactionClient, change: RoomChange): Promise<void> {
  const entries = roomChangeEntries(change, randomUUID);
  await tx.outboxRecord.createMany({
    data: entries.map((e) => ({ id: e.id, aggregateId: e.aggregateId, recordType: e.recordType, key: e.key, payload: e.payload })),
  });
}

/** A Prisma 7 driver adapter (factory), as PrismaClient takes it. */
export type PrismaDriverAdapter = NonNullable<Prisma.PrismaClientOptions['adapter']>;

/**
 * The violated unique constraint's name. Prisma 7 with a driver adapter reports it in
 * `meta.driverAdapterError.cause.constraint.index` (there is no `meta.target` as with the
 * native engine). The PGlite adapter reports the columns instead, so the name is read from
 * PostgreSQL's own message, whose wording is fixed (PGlite runs with C messages).
 */
function constraintOf(error: unknown): string | undefined {
  const cause = prop(prop(prop(error, 'meta'), 'driverAdapterError'), 'cause');
  const index = prop(prop(cause, 'constraint'), 'index');
  if (typeof index === 'string') return index;
  const original = prop(cause, 'originalMessage');
  return typeof original === 'string' ? /constraint "([^"]+)"/.exec(original)?.[1] : undefined;
}

/**
 * ChatStore on PostgreSQL through Prisma 7's query compiler and a driver adapter: no
 * engine binary, so it runs on machines that cannot download one. The adapter is
 * `@prisma/adapter-pg` on `databaseUrl` (a PostgreSQL server), or one given ready-made
 * (the embedded PGlite database of the single-process default): the queries, the
 * transactions and the error mapping are the same for both.
 *
 * Sequence numbers: `appendMessage` increments `rooms.last_seq` inside the transaction
 * that inserts the message. The UPDATE takes the room's row lock, so appenders to one
 * room (on any instance) queue on it and each sees the previous one's committed value:
 * seq is strictly +1 with no gaps, and a rolled-back append gives its number back.
 * Rooms list oldest first by (created_at, id).
 */
export function createPrismaChatStore({
  databaseUrl,
  adapter,
  poolSize = 10,
  transactionMaxWaitMs = 5_000,
  transactionTimeoutMs = 10_000,
  relayTimeoutMs = 60_000,
}: {
  /** A PostgreSQL server, through @prisma/adapter-pg. Required unless `adapter` is given. */
  databaseUrl?: string;
  /** A ready driver adapter; takes the place of `databaseUrl`. Its owner closes what it wraps. */
  adapter?: PrismaDriverAdapter;
  /** pg pool size (with `databaseUrl`). Default 10. */
  poolSize?: number;
  /** How long a transaction may wait for a pooled connection (then UNAVAILABLE). Default 5000. */
  transactionMaxWaitMs?: number;
  /** How long an interactive transaction may run before it is rolled back. Default 10000. */
  transactionTimeoutMs?: number;
  /**
   * How long an outbox relay pass may hold its claimed rows (the transaction spans the
   * produce, so it must outlast the bus's own retries). Default 60000.
   */
  relayTimeoutMs?: number;
}): ChatStore & { readonly prisma: PrismaClient } {
  if ((databaseUrl === undefined) === (adapter === undefined)) throw new Error('createPrismaChatStore: give exactly one of databaseUrl and adapter');
  const prisma = new PrismaClient({ adapter: adapter ?? new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
  const run = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw toStoreError(error, what);
    }
  };
  const transaction = <T>(what: string, body: (tx: Prisma.TransactionClient) => Promise<T>, timeout = transactionTimeoutMs): Promise<T> =>
    run(what, () => prisma.$transaction(body, { maxWait: transactionMaxWaitMs, timeout }));

  const outbox: Outbox = {
    async relay(limit, publish) {
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`outbox relay limit must be a positive integer, got ${limit}`);
      return transaction(
        'relay outbox',
        async (tx) => {
          // The row locks are held until the transaction ends, i.e. across the produce: a
          // second relay skips these rows instead of producing them again, and if this
          // process dies the locks go with its connection and the rows are offered again.
          const rows = await tx.$queryRaw<OutboxRow[]>`
            SELECT id, aggregate_id, record_type, key, payload, created_at FROM outbox
            ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
          if (rows.length === 0) return 0;
          const entries = rows.map(toOutboxEntry);
          await publish(entries);
          await tx.outboxRecord.deleteMany({ where: { id: { in: entries.map((e) => e.id) } } });
          return entries.length;
        },
        relayTimeoutMs,
      );
    },
    async backlog() {
      const { _count, _min } = await run('outbox backlog', () => prisma.outboxRecord.aggregate({ _count: { _all: true }, _min: { createdAt: true } }));
      return { pending: _count._all, oldestCreatedAt: _min.createdAt?.getTime() };
    },
  };

  /** ROOM_NOT_FOUND or NOT_A_MEMBER unless `userId` is a member of the room. */
  const assertMember = async (tx: Prisma.TransactionClient, roomId: string, userId: string): Promise<void> => {
    const membership = await tx.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { userId: true } });
    if (membership !== null) return;
    const room = await tx.room.findUnique({ where: { id: roomId }, select: { id: true } });
    if (room === null) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${roomId}`);
  };

  /**
   * One statement for the whole list, so one round trip however many messages: find what
   * is stored already for each (sender, clientMsgId); of the rest, keep the entries whose
   * sender is a member; lock their rooms in id order (two instances appending to the same
   * rooms never deadlock), bump each room's last_seq by its count — under READ COMMITTED
   * the UPDATE works on the row version it waited for, so seq stays strictly +1 across
   * instances — and insert them numbered in list order. The members come from the same
   * snapshot as the membership check.
   */
  const appendStatement = async (list: readonly NewMessage[]): Promise<AppendOutcome[]> => {
    let rows: AppendRow[];
    try {
      rows = await prisma.$queryRaw<AppendRow[]>`
        WITH input AS (
          SELECT t.id, t.room_id, t.sender_id, t.client_msg_id, t.text, t.ord::int AS ord
          FROM unnest(${list.map((m) => m.id)}::text[], ${list.map((m) => m.roomId)}::text[], ${list.map((m) => m.senderId)}::text[],
                      ${list.map((m) => m.clientMsgId)}::text[], ${list.map((m) => m.text)}::text[])
            WITH ORDINALITY AS t(id, room_id, sender_id, client_msg_id, text, ord)
        ), existing AS (
          SELECT i.ord, m.id, m.room_id, m.seq, m.sender_id, m.client_msg_id, m.text, m.created_at
          FROM input i JOIN messages m ON m.sender_id = i.sender_id AND m.client_msg_id = i.client_msg_id
        ), fresh AS (
          SELECT i.* FROM input i
          WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = i.ord)
            AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.room_id = i.room_id AND ms.user_id = i.sender_id)
        ), locked AS MATERIALIZED (
          SELECT r.id FROM rooms r WHERE r.id IN (SELECT room_id FROM fresh) ORDER BY r.id FOR UPDATE
        ), bumped AS (
          UPDATE rooms r SET last_seq = r.last_seq + c.n
          FROM (SELECT room_id, count(*)::int AS n FROM fresh GROUP BY room_id) c
          WHERE r.id = c.room_id AND r.id IN (SELECT id FROM locked)
          RETURNING r.id AS room_id, r.last_seq, c.n
        ), inserted AS (
          INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, text)
          SELECT f.id, f.room_id, b.last_seq - b.n + row_number() OVER (PARTITION BY f.room_id ORDER BY f.ord), f.sender_id, f.client_msg_id, f.text
          FROM fresh f JOIN bumped b ON b.room_id = f.room_id
          RETURNING id, room_id, seq, sender_id, client_msg_id, text, created_at
        ), written AS (
          SELECT f.ord, ins.id, ins.room_id, ins.seq, ins.sender_id, ins.client_msg_id, ins.text, ins.created_at, true AS created
          FROM inserted ins JOIN fresh f ON f.id = ins.id
          UNION ALL
          SELECT e.ord, e.id, e.room_id, e.seq, e.sender_id, e.client_msg_id, e.text, e.created_at, false AS created FROM existing e
        )
        SELECT i.ord, w.id, w.room_id, w.seq, w.sender_id, w.client_msg_id, w.text, w.created_at, w.created,
          EXISTS (SELECT 1 FROM rooms r WHERE r.id = i.room_id) AS room_exists,
          (SELECT array_agg(ms.user_id ORDER BY ms.user_id) FROM memberships ms WHERE ms.room_id = COALESCE(w.room_id, i.room_id)) AS members
        FROM input i LEFT JOIN written w ON w.ord = i.ord
        ORDER BY i.ord`;
    } catch (error) {
      // A raw query reports constraint violations as P2010, not P2002: name the one that matters.
      if (constraintOf(error) === 'messages_sender_id_client_msg_id_key') throw new UnavailableError('append messages: a concurrent append of the same clientMsgId won; retry', error);
      throw toStoreError(error, 'append messages');
    }
    return list.map((m, i): AppendOutcome => {
      const row = rows[i];
      if (row === undefined) throw new ChatError('INTERNAL', `append messages: no row for entry ${i}`);
      const members = row.members ?? [];
      if (row.id !== null && row.room_id !== null && row.seq !== null && row.sender_id !== null && row.client_msg_id !== null && row.text !== null && row.created_at !== null) {
        const message: Message = { id: row.id, roomId: row.room_id, seq: row.seq, senderId: row.sender_id, text: row.text, ts: new Date(row.created_at).toISOString(), clientMsgId: row.client_msg_id };
        return { ok: true, message, created: row.created === true, members };
      }
      if (!row.room_exists) return { ok: false, error: new ChatError('ROOM_NOT_FOUND', `room ${m.roomId} does not exist`) };
      if (!members.includes(m.senderId)) return { ok: false, error: new ChatError('NOT_A_MEMBER', `${m.senderId} is not a member of room ${m.roomId}`) };
      // A member in the snapshot, yet nothing written: the room changed under the statement.
      return { ok: false, error: new UnavailableError('append messages: the room changed during the append; retry') };
    });
  };

  /**
   * The statement, with one refinement: a non-retriable failure of a list (a text the
   * database refuses) fails only its culprit, found by writing the entries one by one.
   * Those single writes are separate statements, so a retriable failure among them may
   * leave earlier ones written; a retry of the list finds them (created false, same ids).
   */
  const appendUnique = async (list: readonly NewMessage[]): Promise<AppendOutcome[]> => {
    if (list.length === 0) return [];
    let outcomes: AppendOutcome[];
    try {
      outcomes = await appendStatement(list);
    } catch (error) {
      const err = toStoreError(error, 'append messages');
      if (err.retriable) throw err;
      if (list.length === 1) return [{ ok: false, error: err }];
      const singles: AppendOutcome[] = [];
      for (const m of list) singles.push(...(await appendUnique([m])));
      return singles;
    }
    // An entry the room changed under: the whole list is tried again, as for any retriable failure.
    const retry = outcomes.find((o): o is { ok: false; error: ChatError } => !o.ok && o.error.retriable);
    if (retry !== undefined) throw retry.error;
    return outcomes;
  };

  return {
    prisma,
    outbox,
    async start() {
      await run('connect', () => prisma.$connect());
    },
    async stop() {
      await prisma.$disconnect();
    },
    async createUser(user) {
      try {
        await prisma.user.create({ data: { id: user.userId, displayName: user.displayName, passwordHash: user.passwordHash } });
      } catch (error) {
        const err = toStoreError(error, 'create user');
        throw err.code === 'USER_EXISTS' ? new ChatError('USER_EXISTS', `user ${user.userId} already exists`) : err;
      }
    },
    async findUser(userId) {
      const row = await run('find user', () => prisma.user.findUnique({ where: { id: userId } }));
      return row === null ? undefined : { userId: row.id, displayName: row.displayName, passwordHash: row.passwordHash };
    },

    async createRoom({ roomId, name, createdBy, members }) {
      const all = sorted(new Set([createdBy, ...members]));
      return transaction('create room', async (tx) => {
        // Name the missing users; the foreign keys would refuse them anyway.
        const found = new Set((await tx.user.findMany({ where: { id: { in: all } }, select: { id: true } })).map((u) => u.id));
        const missing = all.filter((id) => !found.has(id));
        if (missing.length > 0) throw new ChatError('USER_NOT_FOUND', `unknown users: ${missing.join(', ')}`, { details: { missing } });
        const row = await tx.room.create({
          data: { id: roomId, name, createdBy, memberships: { create: all.map((userId) => ({ userId })) } },
          select: roomSummarySelect,
        });
        const summary = toSummary(row);
        await writeRoomChange(tx, { event: 'created', room: summary, by: createdBy });
        return summary;
      });
    },
    async listRooms(userId) {
      const rows = await run('list rooms', () =>
        prisma.room.findMany({ where: { memberships: { some: { userId } } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: roomSummarySelect }),
      );
      return rows.map(toSummary);
    },
    async getRoom(roomId) {
      const row = await run('get room', () => prisma.room.findUnique({ where: { id: roomId }, select: roomSummarySelect }));
      return row === null ? undefined : toSummary(row);
    },
    async addMember(roomId, byUserId, userId) {
      return transaction('add member', async (tx) => {
        await assertMember(tx, roomId, byUserId);
        if ((await tx.user.findUnique({ where: { id: userId }, select: { id: true } })) === null) {
          throw new ChatError('USER_NOT_FOUND', `user ${userId} does not exist`);
        }
        // ON CONFLICT DO NOTHING: adding twice (even concurrently) is a no-op.
        const { count } = await tx.membership.createMany({ data: [{ roomId, userId }], skipDuplicates: true });
        if (count === 0) return false;
        const room = await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: roomSummarySelect });
        await writeRoomChange(tx, { event: 'member.added', room: toSummary(room), by: byUserId, member: userId });
        return true;
      });
    },
    async roomMembers(roomId) {
      const row = await run('room members', () => prisma.room.findUnique({ where: { id: roomId }, select: { memberships: { select: { userId: true } } } }));
      return row === null ? undefined : sorted(row.memberships.map((m) => m.userId));
    },
    async coMembers(userId) {
      const rows = await run('co-members', () =>
        prisma.membership.findMany({
          where: { userId: { not: userId }, room: { memberships: { some: { userId } } } },
          distinct: ['userId'],
          select: { userId: true },
        }),
      );
      return sorted(rows.map((r) => r.userId));
    },

    async appendMessages(list) {
      // A pair twice in one list: the first occurrence is written, the others report it.
      const firstOf = new Map<string, number>();
      const unique: NewMessage[] = [];
      const slot = list.map((m) => {
        const key = `${m.senderId}\u0000${m.clientMsgId}`;
        let k = firstOf.get(key);
        if (k === undefined) {
          k = unique.push(m) - 1;
          firstOf.set(key, k);
        }
        return k;
      });
      const outcomes = await appendUnique(unique);
      const reported = new Set<number>();
      return slot.map((k): AppendOutcome => {
        const outcome = outcomes[k]!;
        const first = !reported.has(k);
        reported.add(k);
        return outcome.ok && !first ? { ...outcome, created: false } : outcome;
      });
    },
    async listMessages(roomId, query) {
      checkQuery(query);
      const newestFirst = query.beforeSeq !== undefined && query.afterSeq === undefined;
      const rows = await run('list messages', () =>
        prisma.message.findMany({
          where: { roomId, seq: { gt: query.afterSeq, lt: query.beforeSeq } },
          orderBy: { seq: newestFirst ? 'desc' : 'asc' },
          take: query.limit,
        }),
      );
      if (newestFirst) rows.reverse();
      return rows.map(toMessage);
    },

    async health() {
      try {
        await prisma.$queryRaw`SELECT 1`;
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: toStoreError(error, 'ping').message };
      }
    },
  };
}
