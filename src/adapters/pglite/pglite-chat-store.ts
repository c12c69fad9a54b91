import { PrismaPGlite } from 'pglite-prisma-adapter';
import { UnavailableError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { ChatStore } from '../../ports/chat-store';
import { createPrismaChatStore } from '../prisma/prisma-chat-store';
import { openEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database';

export { IN_MEMORY_DATA_DIR } from './embedded-database';

/**
 * The single-process default store: PostgreSQL compiled to WebAssembly (PGlite), inside
 * this process, with its files under `dataDir`. Nothing to install or run.
 *
 * It is not a store of its own: it is the Prisma store (src/adapters/prisma) on the PGlite
 * driver adapter, so the schema, the queries and the guarantees are the PostgreSQL
 * store's, and it passes the same contract suite. On start it applies the migrations
 * (./embedded-database.ts), so the embedded database is always at the committed schema.
 *
 * PGlite is one connection: transactions run one at a time, which is plenty for one
 * process and a handful of users. The Prisma store's row-lock argument for gap-free seq
 * holds trivially.
 */
export function createPgliteChatStore({
  dataDir,
  migrationsDir,
  logger,
}: {
  /** A directory (created if missing), or `memory://` to keep nothing on disk. */
  dataDir: string;
  /** Default: prisma/migrations, or dist/migrations in a release build. */
  migrationsDir?: string;
  logger: Logger;
}): ChatStore {
  const log = logger.child({ component: 'pglite' });
  let embedded: EmbeddedDatabase | undefined;
  let inner: ReturnType<typeof createPrismaChatStore> | undefined;
  // The PrismaClient needs the PGlite instance, which exists only after start(): every
  // method goes through here and fails retriably until then.
  const store = (): ChatStore => {
    if (inner === undefined) throw new UnavailableError('the embedded database is not started');
    return inner;
  };
  const where = () => (embedded === undefined || embedded.inMemory ? 'in memory' : embedded.dir);

  return {
    async start() {
      if (inner !== undefined) return;
      embedded = await openEmbeddedDatabase({
        dataDir,
        ...(migrationsDir === undefined ? {} : { migrationsDir }),
        log: (line) => log.info(line),
      });
      try {
        const { migrations } = embedded;
        log.info(
          { event: 'pglite.ready', dataDir: embedded.dir, applied: migrations.applied, alreadyApplied: migrations.alreadyApplied.length },
          `embedded PostgreSQL ready (${where()})`,
        );
        inner = createPrismaChatStore({ adapter: new PrismaPGlite(embedded.db) });
        await inner.start();
      } catch (error) {
        inner = undefined;
        await embedded.close().catch(() => undefined);
        embedded = undefined;
        throw error;
      }
    },
    async stop() {
      const [s, e] = [inner, embedded];
      inner = undefined;
      embedded = undefined;
      await s?.stop();
      await e?.close();
    },
    createUser: async (user) => store().createUser(user),
    findUser: async (userId) => store().findUser(userId),
    searchUsers: async (prefix, limit) => store().searchUsers(prefix, limit),
    createRoom: async (room) => store().createRoom(room),
    openDm: async (dm) => store().openDm(dm),
    listRooms: async (userId, page) => store().listRooms(userId, page),
    getRoom: async (roomId) => store().getRoom(roomId),
    addMember: async (roomId, byUserId, userId) => store().addMember(roomId, byUserId, userId),
    renameRoom: async (roomId, byUserId, name) => store().renameRoom(roomId, byUserId, name),
    removeMember: async (roomId, byUserId, userId) => store().removeMember(roomId, byUserId, userId),
    roomMembers: async (roomId) => store().roomMembers(roomId),
    coMembers: async (userId) => store().coMembers(userId),
    firstCoMembers: async (userId, limit) => store().firstCoMembers(userId, limit),
    markRead: async (userId, roomId, seq) => store().markRead(userId, roomId, seq),
    readCursors: async (userId, roomIds) => store().readCursors(userId, roomIds),
    appendMessages: async (messages) => store().appendMessages(messages),
    listMessages: async (roomId, query) => store().listMessages(roomId, query),
    outbox: {
      relay: async (limit, publish) => store().outbox.relay(limit, publish),
      backlog: async () => store().outbox.backlog(),
    },
    refreshTokens: {
      issue: async (token) => store().refreshTokens.issue(token),
      rotate: async (tokenHash, next, now) => store().refreshTokens.rotate(tokenHash, next, now),
      revokeFamilyOf: async (tokenHash, userId) => store().refreshTokens.revokeFamilyOf(tokenHash, userId),
    },
    async health() {
      if (inner === undefined) return { ok: false, detail: 'embedded database not started' };
      const check = await inner.health();
      return check.ok ? { ok: true, detail: `embedded PostgreSQL (PGlite, ${where()})` } : check;
    },
  };
}
