/**
 * npm run db:migrate — apply prisma/migrations to DATABASE_URL offline, like `prisma migrate deploy`.
 *
 *   npm run db:migrate                              apply pending migrations (creates the database if missing)
 *   npm run db:migrate -- --rolled-back <name>      mark a failed migration rolled back (`prisma migrate resolve --rolled-back`)
 *
 * DATABASE_URL defaults to postgresql://postgres@127.0.0.1:5432/chat. A thin wrapper: the
 * migrator is runtime code (src/adapters/postgres/migrations.ts) that the release build
 * runs as `node dist/migrate.js`. The bookkeeping is Prisma's own (_prisma_migrations, same
 * checksums), so `prisma migrate deploy` on a machine with the native engine sees these
 * migrations as applied.
 */
import { describeMigrateFailure, runMigrateCommand } from '../../src/adapters/postgres/migrate-command';
import { databaseUrlFromEnv, MIGRATIONS_DIR } from './env';

runMigrateCommand({
  argv: process.argv.slice(2),
  databaseUrl: databaseUrlFromEnv(),
  migrationsDir: MIGRATIONS_DIR,
  usage: 'npm run db:migrate --',
  out: (line) => console.log(line),
  err: (line) => console.error(line),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(describeMigrateFailure('db:migrate', error));
    process.exitCode = 1;
  },
);
