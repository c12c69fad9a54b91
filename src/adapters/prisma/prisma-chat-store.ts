import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient, type Prisma } from '../../generated/prisma/client';
import { ChatError, ValidationError } from '../../domain/errors';
import type { ChatStore } from '../../ports/chat-store';
import { checkMessageQuery } from '../../ports/message-query';
import { createAppendPool, type StatementConfig } from './append-pool';
import { APPEND_MESSAGES_SQL, type AppendRow, type AppendRowsQuery } from './append-statement';
import { createPrismaAppendMessages } from './prisma-append-messages';
import { preparedStatementName } from './prepared-statements';
import { toStoreError } from './prisma-errors';
import { createPrismaOutbox, writeRoomChange } from './prisma-outbox';
import { createPrismaRoomMembership } from './prisma-room-membership';
import { createPrismaRefreshTokenStore } from './prisma-refresh-token-store';
import { createPrismaSearchUsers } from './prisma-search-users';
import { createPrismaReadCursors } from './prisma-read-cursors';
import { roomSummarySelect, sorted, toMessage, toSummary } from './prisma-rows';

/** A Prisma 7 driver adapter (factory), as PrismaClient takes it. */
export type PrismaDriverAdapter = NonNullable<Prisma.PrismaClientOptions['adapter']>;

/** @prisma/adapter-pg on `pool` (which it ends on disconnect), or the adapter given. */
function driverAdapter({
  pool,
  adapter,
  preparedStatements,
}: {
  pool: Pool | undefined;
  adapter: PrismaDriverAdapter | undefined;
  preparedStatements: boolean;
}): PrismaDriverAdapter {
  if (pool !== undefined)
    return new PrismaPg(pool, {
      disposeExternalPool: true,
      ...(preparedStatements ? { statementNameGenerator: ({ sql }) => preparedStatementName(sql) } : {}),
    });
  if (adapter !== undefined) return adapter;
  throw new Error('createPrismaChatStore: give exactly one of databaseUrl and adapter');
}

/**
 * ChatStore on PostgreSQL through Prisma 7's query compiler and a driver adapter: no
 * engine binary, so it runs on machines that cannot download one. The adapter is
 * `@prisma/adapter-pg` on `databaseUrl` (a PostgreSQL server), or one given ready-made
 * (the embedded PGlite database of the single-process default): the queries, the
 * transactions and the error mapping are the same for both.
 *
 * Split by concern: error translation (prisma-errors.ts), row mapping (prisma-rows.ts),
 * the batched append and its sequence numbers (prisma-append-messages.ts), the outbox
 * (prisma-outbox.ts), direct rooms, rename and removal (prisma-room-membership.ts), read
 * cursors (prisma-read-cursors.ts); this file holds the connection and the plain reads and
 * writes.
 * Rooms list oldest first by (created_at, id).
 */
export function createPrismaChatStore({
  databaseUrl,
  adapter,
  poolSize = 10,
  transactionMaxWaitMs = 5_000,
  transactionTimeoutMs = 10_000,
  relayTimeoutMs = 60_000,
  preparedStatements = true,
  genericAppendPlan = true,
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
  /**
   * With `databaseUrl`: the hot statements as named prepared statements, parsed and planned
   * once per connection (prepared-statements.ts). Default true; false behind a pooler in
   * transaction mode that cannot keep them.
   */
  preparedStatements?: boolean;
  /**
   * With `databaseUrl` and prepared statements: the append on connections of its own that
   * keep PostgreSQL's generic plan for it (append-pool.ts). Default true; false plans it
   * every time on the main pool (PostgreSQL's default, measured against in the benchmarks).
   */
  genericAppendPlan?: boolean;
}): ChatStore & { readonly prisma: PrismaClient } {
  if ((databaseUrl === undefined) === (adapter === undefined))
    throw new Error('createPrismaChatStore: give exactly one of databaseUrl and adapter');
  // One pool for Prisma, on which the append also runs directly (through Prisma's $queryRaw
  // its parameters and rows cost more of our CPU than the pg driver's own work: docs/database.md,
  // "The message append runs on the pool"), unless it has connections of its own that keep
  // its generic plan (append-pool.ts). Prisma ends the main pool on $disconnect.
  const pool = databaseUrl === undefined ? undefined : new Pool({ connectionString: databaseUrl, max: poolSize });
  const prisma = new PrismaClient({ adapter: driverAdapter({ pool, adapter, preparedStatements }) });
  // The statement and its name are fixed: settled once here, not per append.
  const appendStatementName = preparedStatements ? preparedStatementName(APPEND_MESSAGES_SQL) : '';
  const appendConfig = (values: readonly unknown[]): StatementConfig => ({
    text: APPEND_MESSAGES_SQL,
    values: [...values],
    ...(appendStatementName === '' ? {} : { name: appendStatementName }),
  });
  const appendPool =
    databaseUrl !== undefined && preparedStatements && genericAppendPlan ? createAppendPool({ connectionString: databaseUrl }) : undefined;
  const appendQuery: AppendRowsQuery =
    appendPool !== undefined
      ? async (values) => (await appendPool.query<AppendRow>(appendConfig(values))).rows
      : pool !== undefined
        ? async (values) => (await pool.query<AppendRow>(appendConfig(values))).rows
        : (values) => prisma.$queryRawUnsafe<AppendRow[]>(APPEND_MESSAGES_SQL, ...values);
  const run = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw toStoreError(error, what);
    }
  };
  const transaction = <T>(what: string, body: (tx: Prisma.TransactionClient) => Promise<T>, timeout = transactionTimeoutMs): Promise<T> =>
    run(what, () => prisma.$transaction(body, { maxWait: transactionMaxWaitMs, timeout }));

  const outbox = createPrismaOutbox({ prisma, run, transaction, relayTimeoutMs });
  const appendMessages = createPrismaAppendMessages({ query: appendQuery });
  const membership = createPrismaRoomMembership({ transaction });
  const refreshTokens = createPrismaRefreshTokenStore({ prisma, transaction });
  const readCursors = createPrismaReadCursors({ prisma });

  /** ROOM_NOT_FOUND or NOT_A_MEMBER unless `userId` is a member of the room. */
  const assertMember = async (tx: Prisma.TransactionClient, roomId: string, userId: string): Promise<void> => {
    const membership = await tx.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { userId: true } });
    if (membership !== null) return;
    const room = await tx.room.findUnique({ where: { id: roomId }, select: { id: true } });
    if (room === null) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${roomId}`);
  };

  return {
    prisma,
    outbox,
    refreshTokens,
    async start() {
      await run('connect', () => prisma.$connect());
    },
    async stop() {
      try {
        await prisma.$disconnect();
      } finally {
        await appendPool?.end();
      }
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
    searchUsers: createPrismaSearchUsers({ prisma, run }),

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
    ...membership,
    async listRooms(userId, { afterRoomId, limit } = {}) {
      // Keyset paging on (created_at, id), read from the cursor's room itself (never
      // deleted, its created_at never changes): no offset, so rooms created or joined
      // meanwhile cannot shift a page.
      const after =
        afterRoomId === undefined
          ? undefined
          : await run('list rooms', () => prisma.room.findUnique({ where: { id: afterRoomId }, select: { id: true, createdAt: true } }));
      if (after === null) throw new ValidationError('unknown room cursor');
      const rows = await run('list rooms', () =>
        prisma.room.findMany({
          where: {
            memberships: { some: { userId } },
            ...(after === undefined
              ? {}
              : { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }),
          },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          ...(limit === undefined ? {} : { take: limit }),
          select: roomSummarySelect,
        }),
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
        const { kind } = await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: { kind: true } });
        if (kind === 'dm') throw new ChatError('ROOM_IS_DM', 'a direct room cannot take more members');
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
      const row = await run('room members', () =>
        prisma.room.findUnique({ where: { id: roomId }, select: { memberships: { select: { userId: true } } } }),
      );
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
    async firstCoMembers(userId, limit) {
      if (limit <= 0) return [];
      const rows = await run('first co-members', () =>
        prisma.membership.findMany({
          where: { userId: { not: userId }, room: { memberships: { some: { userId } } } },
          distinct: ['userId'],
          orderBy: { userId: 'asc' },
          take: limit,
          select: { userId: true },
        }),
      );
      // Sorted like coMembers (JS code-unit order), whatever the database's collation.
      return sorted(rows.map((r) => r.userId));
    },

    ...readCursors,
    appendMessages,
    async listMessages(roomId, query) {
      checkMessageQuery(query);
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
