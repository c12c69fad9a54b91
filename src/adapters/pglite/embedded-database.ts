import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS_DIR } from '../../release/release-layout';
import { applyMigrationsOn, type ApplyMigrationsResult, type MigrationConnection } from '../postgres/migrations';
import { lockDataDir } from './data-dir-lock';

/** The data directory value that keeps the embedded database in memory only (PGlite's own spelling). */
export const IN_MEMORY_DATA_DIR = 'memory://';

/** An open, migrated embedded PostgreSQL; `close` also gives its data directory back. */
export interface EmbeddedDatabase {
  readonly db: PGlite;
  /** The directory (absolute), or `memory://`. */
  readonly dir: string;
  readonly inMemory: boolean;
  readonly migrations: ApplyMigrationsResult;
  close(): Promise<void>;
}

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
 * Opens the embedded PostgreSQL (PGlite) under `dataDir`, holding the directory's lock,
 * and applies the migrations with the bookkeeping of the PostgreSQL migrator
 * (src/adapters/postgres/migrations.ts), so the database is always at the committed
 * schema. Used by the store at start and by `node dist/migrate.js` without DATABASE_URL.
 */
export async function openEmbeddedDatabase({
  dataDir,
  migrationsDir = MIGRATIONS_DIR,
  log,
}: {
  /** A directory (created if missing), or `memory://` to keep nothing on disk. */
  dataDir: string;
  /** Default: prisma/migrations, or dist/migrations in a release build. */
  migrationsDir?: string;
  log: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === IN_MEMORY_DATA_DIR;
  const dir = inMemory ? dataDir : path.resolve(dataDir);
  const lock = inMemory ? undefined : lockDataDir({ dir, what: 'the embedded PostgreSQL (PGlite)' });
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(inMemory ? undefined : dir);
    const migrations = await applyMigrationsOn({
      connection: pgliteMigrationConnection(db),
      migrationsDir,
      target: inMemory ? 'the in-memory database' : dir,
      log,
    });
    const opened = db;
    return {
      db: opened,
      dir,
      inMemory,
      migrations,
      async close() {
        try {
          await opened.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
}
