/**
 * npm run db:diff — Prisma's SQL for changes to prisma/schema.prisma, offline.
 *
 *   npm run db:diff                        print the SQL from prisma/migrations to schema.prisma
 *   npm run db:diff -- --create <name>     write it to prisma/migrations/<UTC timestamp>_<name>/migration.sql
 *   npm run db:diff -- --from-empty        print the SQL that creates the whole schema
 *   npm run db:diff -- --check             exit 2 when schema.prisma has changes no migration holds
 *
 * The SQL comes from Prisma's own schema engine (its WebAssembly build in prisma@6.19, see
 * scripts/db/js-engine.ts), so it is what `prisma migrate dev --create-only` would write.
 * Needs the PostgreSQL server of DATABASE_URL (only a throwaway database on it is touched).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR, SCHEMA_PATH } from './env';
import { sqlFromEmpty, sqlFromMigrations } from './js-engine';
import { MIGRATION_LOCK } from '../../src/adapters/postgres/migrations';

function utcTimestamp(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

async function main(argv: string[]): Promise<number> {
  const fromEmpty = argv.includes('--from-empty');
  const check = argv.includes('--check');
  const createAt = argv.indexOf('--create');
  const name = createAt === -1 ? undefined : argv[createAt + 1];
  if (createAt !== -1 && !name) {
    console.error('usage: npm run db:diff -- --create <migration_name>');
    return 1;
  }
  const known = new Set(['--from-empty', '--check', '--create', name]);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) {
    console.error(`unknown arguments: ${unknown.join(' ')}`);
    return 1;
  }

  const result = fromEmpty
    ? await sqlFromEmpty({ schemaPath: SCHEMA_PATH })
    : await sqlFromMigrations({ schemaPath: SCHEMA_PATH, migrationsDir: MIGRATIONS_DIR });

  if (name === undefined) {
    process.stdout.write(result.sql);
    if (check && !result.empty) {
      console.error('schema.prisma has changes that no migration holds: npm run db:diff -- --create <name>');
      return 2;
    }
    return 0;
  }
  if (result.empty) {
    console.error('No changes: schema.prisma matches prisma/migrations. Nothing written.');
    return 0;
  }
  const dirName = `${utcTimestamp()}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const dir = path.join(MIGRATIONS_DIR, dirName);
  if (existsSync(dir)) throw new Error(`${dir} already exists`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), result.sql);
  const lock = path.join(MIGRATIONS_DIR, 'migration_lock.toml');
  if (!existsSync(lock)) writeFileSync(lock, MIGRATION_LOCK);
  console.log(`Wrote ${path.relative(process.cwd(), path.join(dir, 'migration.sql'))}. Review it, then npm run db:migrate.`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`db:diff failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
