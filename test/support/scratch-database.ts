import { randomBytes } from 'node:crypto';
import { MIGRATIONS_DIR, withDatabase } from '../../scripts/db/env';
import { applyMigrations, dropDatabase } from '../../src/adapters/postgres/migrations';
import { DATABASE_URL, requirePostgres } from './infra';

/**
 * A database of its own on the test PostgreSQL server, migrated with prisma/migrations, for
 * a test that reads whole tables (the outbox relay claims every pending row, so rows other
 * suites write to the shared `chat_test` at the same time would be taken). Fails loudly
 * without PostgreSQL; `drop()` removes it.
 */
export async function migratedScratchDatabase(label: string): Promise<{ readonly url: string; drop(): Promise<void> }> {
  await requirePostgres();
  const name = `scratch_${label}_${randomBytes(5).toString('hex')}`;
  const url = withDatabase(DATABASE_URL, name);
  await applyMigrations({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
  return { url, drop: () => dropDatabase(DATABASE_URL, name) };
}
