import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { MIGRATIONS_DIR } from '../../release/release-layout';
import { applyMigrationsOn, type MigrationConnection } from '../postgres/migrations';
import { UnavailableError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { ChatStore } from '../../ports/chat-store';
import { createPrismaChatStore } from '../prisma/prisma-chat-store';
import { lockDataDir, type DataDirLock } from './data-dir-lock';

/** The data directory value that keeps the embedded database in memory only (PGlite's own spelling). */
export const IN_MEMORY_DATA_DIR = 'memory://';

/** PGlite as the migrator's session: it is one session by construction. */
function pgliteMigrationConnection(db: PGlite): MigrationConnection {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const result = await db.query<R>(sql, params === undefined ? undefined : [...params]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

/**
 * The single-process default store: PostgreSQL compiled to WebAssembly (PGlite), inside
 * this process, with its files under `dataDir`. Nothing to install or run.
 *
 * It is not a store of its own: it is the Prisma store (src/adapters/prisma) on the PGlite
 * driver adapter, so the schema, the queries and the guarantees are the PostgreSQL
 * store's, and it passes the same contract suite. On start it applies prisma/migrations
 * with the bookkeeping of `npm run db:migrate` (src/adapters/postgres/migrations.ts), so the embedded
 * database is always at the committed schema.
 *
 * PGlite is one connection: transactions run one at a time, which is plenty for one
 * process and a handful of users. The Prisma store's row-lock argument for gap-free seq
 * holds trivially.
 */
export function createPgliteChatStore({
  dataDir,
  migrationsDir = MIGRATIONS_DIR,
  logger,
}: {
  /** A directory (created if missing), or `memory://` to keep nothing on disk. */
  dataDir: string;
  /** Default: prisma/migrations, or dist/migrations in a release build. */
  migrationsDir?: string;
  logger: Logger;
}): ChatStore {
  const log = logger.child({ component: 'pglite' });
  const inMemory = dataDir === IN_MEMORY_DATA_DIR;
  const dir = inMemory ? dataDir : path.resolve(dataDir);
  let db: PGlite | undefined;
  let lock: DataDirLock | undefined;
  let inner: ReturnType<typeof createPrismaChatStore> | undefined;
  // The PrismaClient needs the PGlite instance, which exists only after start(): every
  // method goes through here and fails retriably until then.
  const store = (): ChatStore => {
    if (inner === undefined) throw new UnavailableError('the embedded database is not started');
    return inner;
  };

  return {
    async start() {
      if (inner !== undefined) return;
      if (!inMemory) lock = lockDataDir({ dir, what: 'the embedded PostgreSQL (PGlite)' });
      try {
        db = await PGlite.create(inMemory ? undefined : dir);
        const result = await applyMigrationsOn({
          connection: pgliteMigrationConnection(db),
          migrationsDir,
          target: inMemory ? 'the in-memory database' : dir,
          log: (line) => log.info(line),
        });
        log.info({ event: 'pglite.ready', dataDir: dir, applied: result.applied, alreadyApplied: result.alreadyApplied.length }, `embedded PostgreSQL ready (${inMemory ? 'in memory' : dir})`);
        inner = createPrismaChatStore({ adapter: new PrismaPGlite(db) });
        await inner.start();
      } catch (error) {
        await db?.close().catch(() => undefined);
        db = undefined;
        lock?.release();
        lock = undefined;
        throw error;
      }
    },
    async stop() {
      const [s, d, l] = [inner, db, lock];
      inner = undefined;
      db = undefined;
      lock = undefined;
      await s?.stop();
      await d?.close();
      l?.release();
    },
    createUser: async (user) => store().createUser(user),
    findUser: async (userId) => store().findUser(userId),
    createRoom: async (room) => store().createRoom(room),
    listRooms: async (userId) => store().listRooms(userId),
    getRoom: async (roomId) => store().getRoom(roomId),
    addMember: async (roomId, byUserId, userId) => store().addMember(roomId, byUserId, userId),
    roomMembers: async (roomId) => store().roomMembers(roomId),
    coMembers: async (userId) => store().coMembers(userId),
    appendMessages: async (messages) => store().appendMessages(messages),
    listMessages: async (roomId, query) => store().listMessages(roomId, query),
    outbox: {
      relay: async (limit, publish) => store().outbox.relay(limit, publish),
      backlog: async () => store().outbox.backlog(),
    },
    async health() {
      if (inner === undefined) return { ok: false, detail: 'embedded database not started' };
      const check = await inner.health();
      return check.ok ? { ok: true, detail: `embedded PostgreSQL (PGlite, ${inMemory ? 'in memory' : dir})` } : check;
    },
  };
}
