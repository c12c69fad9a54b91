import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { createPgliteChatStore, IN_MEMORY_DATA_DIR } from '../../src/adapters/pglite/pglite-chat-store';
import type { ChatStore } from '../../src/ports/chat-store';
import { DATABASE_URL, requirePostgres, silentLogger } from '../support/infra';
import { migratedScratchDatabase } from '../support/scratch-database';

/**
 * Every ChatStore adapter, for the contract suites that run against all of them: in memory;
 * Prisma on the real PostgreSQL, where "another instance" is a second store with its own
 * PrismaClient and connection pool; and Prisma on the embedded PGlite of the
 * single-process default (migrated on start), where there is no other instance.
 */
export interface StoreHarness {
  readonly store: ChatStore;
  /** A second handle on the same data: another instance for Prisma, the same store otherwise. */
  readonly other: ChatStore;
  /** One database connection (PGlite): a second transaction waits for the first. */
  readonly oneConnection: boolean;
  close(): Promise<void>;
}

/**
 * `database`: for Prisma, the shared test database, or a migrated one of its own (for
 * suites that read whole tables, such as the outbox, which others write to meanwhile).
 */
export function storeAdapters({ database }: { database: 'shared' | 'scratch' }): [string, () => Promise<StoreHarness>][] {
  return [
    [
      'memory',
      async () => {
        const store = createMemoryChatStore();
        return { store, other: store, oneConnection: false, close: async () => {} };
      },
    ],
    [
      'prisma',
      async () => {
        const db = database === 'scratch' ? await migratedScratchDatabase('store') : undefined;
        if (db === undefined) await requirePostgres();
        const url = db?.url ?? DATABASE_URL;
        const store = createPrismaChatStore({ databaseUrl: url });
        const other = createPrismaChatStore({ databaseUrl: url });
        await store.start();
        await other.start();
        return {
          store,
          other,
          oneConnection: false,
          close: async () => {
            await store.stop();
            await other.stop();
            await db?.drop();
          },
        };
      },
    ],
    [
      'pglite',
      async () => {
        const store = createPgliteChatStore({ dataDir: IN_MEMORY_DATA_DIR, logger: silentLogger() });
        await store.start();
        return { store, other: store, oneConnection: true, close: () => store.stop() };
      },
    ],
  ];
}
