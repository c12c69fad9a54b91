import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { diffCatalogs, formatCatalogDiff, snapshotCatalog } from '../../scripts/db/catalog';
import { databaseUrlFromEnv, MIGRATIONS_DIR, redactUrl, SCHEMA_PATH, withDatabase } from '../../scripts/db/env';
import { sqlFromEmpty, sqlFromMigrations } from '../../scripts/db/js-engine';
import {
  applyMigrations,
  dropDatabase,
  markRolledBack,
  migrationChecksum,
  MigrationError,
  readLocalMigrations,
  readMigrationHistory,
} from '../../src/adapters/postgres/migrations';

/**
 * schema.prisma and prisma/migrations must describe the same database, and the offline
 * migrator (npm run db:migrate) must behave like `prisma migrate deploy`.
 *
 * Every database here is a throwaway one (random name, dropped afterwards) on the server
 * of TEST_DATABASE_URL / DATABASE_URL (default 127.0.0.1:5432). PostgreSQL being
 * unreachable fails the suite; it never skips.
 */
const SERVER_URL = process.env['TEST_DATABASE_URL'] ?? databaseUrlFromEnv();
const created: string[] = [];

function scratchDatabase(label: string): { name: string; url: string } {
  const name = `drift_${label}_${randomBytes(5).toString('hex')}`;
  created.push(name);
  return { name, url: withDatabase(SERVER_URL, name) };
}

async function execute(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createDatabase(name: string): Promise<void> {
  await execute(withDatabase(SERVER_URL, 'postgres'), `CREATE DATABASE "${name}"`);
}

/** A copy of prisma/migrations that a test may change. */
function copyOfMigrations(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'migrations-')), 'migrations');
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

jest.setTimeout(120_000);

beforeAll(async () => {
  const probe = new Client({ connectionString: withDatabase(SERVER_URL, 'postgres'), connectionTimeoutMillis: 3_000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is required at ${redactUrl(withDatabase(SERVER_URL, 'postgres'))} and is not reachable (${String(error)}). ` +
        'Start PostgreSQL and run again; this suite never skips.',
    );
  } finally {
    await probe.end().catch(() => undefined);
  }
});

afterAll(async () => {
  for (const name of created) await dropDatabase(SERVER_URL, name).catch(() => undefined);
});

describe('prisma/migrations vs schema.prisma', () => {
  it('has migrations in Prisma layout', () => {
    const lock = readFileSync(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8');
    expect(lock).toMatch(/^provider = "postgresql"$/m);
    const migrations = readLocalMigrations(MIGRATIONS_DIR);
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(m.name).toMatch(/^\d{14}_[A-Za-z0-9_]+$/);
  });

  it('builds the same database from the migrations as from schema.prisma', async () => {
    const fromMigrations = scratchDatabase('migrations');
    await applyMigrations({ databaseUrl: fromMigrations.url, migrationsDir: MIGRATIONS_DIR });

    // Prisma's own engine (WebAssembly build, offline) renders schema.prisma as SQL.
    const fromSchema = scratchDatabase('schema');
    await createDatabase(fromSchema.name);
    const { sql } = await sqlFromEmpty({ schemaPath: SCHEMA_PATH, serverUrl: SERVER_URL });
    expect(sql).toContain('CREATE TABLE');
    await execute(fromSchema.url, sql);

    const [a, b] = await Promise.all([snapshotCatalog(fromMigrations.url), snapshotCatalog(fromSchema.url)]);
    expect(a.some((line) => line.startsWith('table '))).toBe(true);
    const report = formatCatalogDiff(diffCatalogs(a, b), 'prisma/migrations', 'prisma/schema.prisma');
    if (report) {
      throw new Error(
        `prisma/schema.prisma and prisma/migrations disagree:\n${report}\n` +
          'Add a migration for the schema change: npm run db:diff -- --create <name> (see docs/database.md).',
      );
    }
  });

  it("leaves nothing for Prisma's own diff from the migrations to schema.prisma", async () => {
    const { sql, empty } = await sqlFromMigrations({
      schemaPath: SCHEMA_PATH,
      migrationsDir: MIGRATIONS_DIR,
      serverUrl: SERVER_URL,
    });
    if (!empty) {
      throw new Error(
        `schema.prisma has changes that no migration holds. Prisma would add:\n${sql}\n` +
          'Create the migration: npm run db:diff -- --create <name>',
      );
    }
  });
});

describe('offline migrator (npm run db:migrate)', () => {
  it('records migrations like Prisma and applies nothing the second time', async () => {
    const db = scratchDatabase('twice');
    const local = readLocalMigrations(MIGRATIONS_DIR);

    const first = await applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR });
    expect(first.createdDatabase).toBe(true);
    expect(first.applied).toEqual(local.map((m) => m.name));

    const second = await applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(local.map((m) => m.name));
    expect(second.createdDatabase).toBe(false);

    const history = await readMigrationHistory(db.url);
    expect(history.map((r) => r.migration_name)).toEqual(local.map((m) => m.name));
    for (const row of history) {
      const file = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(migrationChecksum(file));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("creates _prisma_migrations with Prisma's column layout", async () => {
    const db = scratchDatabase('layout');
    await applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
        `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
          WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      expect(rows).toEqual([
        { column_name: 'id', data_type: 'character varying', is_nullable: 'NO', column_default: null },
        { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO', column_default: null },
        { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES', column_default: null },
        { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO', column_default: null },
        { column_name: 'logs', data_type: 'text', is_nullable: 'YES', column_default: null },
        { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES', column_default: null },
        { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO', column_default: 'now()' },
        { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO', column_default: '0' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    const db = scratchDatabase('tampered');
    const migrationsDir = copyOfMigrations();
    try {
      await applyMigrations({ databaseUrl: db.url, migrationsDir });
      const first = readLocalMigrations(migrationsDir)[0];
      if (!first) throw new Error('no migrations');
      appendFileSync(first.sqlPath, '\n-- edited after it was applied\n');

      const attempt = applyMigrations({ databaseUrl: db.url, migrationsDir });
      await expect(attempt).rejects.toBeInstanceOf(MigrationError);
      await expect(attempt).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      await expect(attempt).rejects.toThrow(first.name);
    } finally {
      rmSync(path.dirname(migrationsDir), { recursive: true, force: true });
    }
  });

  it('accepts the same file checked out with CRLF line endings, as Prisma does', async () => {
    const db = scratchDatabase('crlf');
    const migrationsDir = copyOfMigrations();
    try {
      await applyMigrations({ databaseUrl: db.url, migrationsDir });
      for (const m of readLocalMigrations(migrationsDir)) writeFileSync(m.sqlPath, m.script.replace(/\r?\n/g, '\r\n'));
      await expect(applyMigrations({ databaseUrl: db.url, migrationsDir })).resolves.toMatchObject({ applied: [] });
    } finally {
      rmSync(path.dirname(migrationsDir), { recursive: true, force: true });
    }
  });

  it('records a failed migration, rolls its statements back, and refuses to go on until it is resolved', async () => {
    const db = scratchDatabase('failed');
    const migrationsDir = copyOfMigrations();
    try {
      const broken = path.join(migrationsDir, '99990101000000_broken');
      mkdirSync(broken);
      writeFileSync(path.join(broken, 'migration.sql'), 'CREATE TABLE half_done (id INTEGER);\nSELECT * FROM no_such_table;\n');

      await expect(applyMigrations({ databaseUrl: db.url, migrationsDir })).rejects.toMatchObject({ code: 'MIGRATION_FAILED' });
      const history = await readMigrationHistory(db.url);
      const failed = history.find((r) => r.migration_name === '99990101000000_broken');
      expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
      expect(failed?.logs).toContain('no_such_table');
      const names = await snapshotCatalog(db.url);
      expect(names).not.toContain('table half_done');

      await expect(applyMigrations({ databaseUrl: db.url, migrationsDir })).rejects.toMatchObject({
        code: 'FAILED_MIGRATION_IN_DATABASE',
      });

      // `prisma migrate resolve --rolled-back`, then a fixed migration applies.
      writeFileSync(path.join(broken, 'migration.sql'), 'CREATE TABLE half_done (id INTEGER);\n');
      await markRolledBack({ databaseUrl: db.url, migrationName: '99990101000000_broken' });
      await expect(applyMigrations({ databaseUrl: db.url, migrationsDir })).resolves.toMatchObject({
        applied: ['99990101000000_broken'],
      });
      expect(await snapshotCatalog(db.url)).toContain('table half_done');
    } finally {
      rmSync(path.dirname(migrationsDir), { recursive: true, force: true });
    }
  });

  it('lets only one of two concurrent runs apply each migration (advisory lock)', async () => {
    const db = scratchDatabase('concurrent');
    const results = await Promise.all([
      applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR }),
      applyMigrations({ databaseUrl: db.url, migrationsDir: MIGRATIONS_DIR }),
    ]);
    const local = readLocalMigrations(MIGRATIONS_DIR).map((m) => m.name);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...local].sort());
    expect((await readMigrationHistory(db.url)).map((r) => r.migration_name)).toEqual(local);
  });
});
