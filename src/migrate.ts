import { existsSync } from 'node:fs';
import { ConfigError, loadDatabaseConfig } from './config/config';
import { createPgliteChatStore } from './adapters/pglite/pglite-chat-store';
import { describeMigrateFailure, runMigrateCommand } from './adapters/postgres/migrate-command';
import { createLogger } from './observability/logger';
import { MIGRATIONS_DIR } from './release/release-layout';

/**
 * `node dist/migrate.js` — the release build's migration command: applies the migrations
 * shipped in dist/migrations to DATABASE_URL, with production dependencies only (no tsx,
 * no Prisma CLI). Run it before starting a new version's instances (the server itself
 * never migrates a PostgreSQL server: several instances starting at once would race, and
 * a schema change is a release step an operator should see).
 *
 *   node dist/migrate.js                         apply pending migrations
 *   node dist/migrate.js --rolled-back <name>    mark a failed migration rolled back
 *
 * Without DATABASE_URL it migrates the embedded PostgreSQL under DATA_DIR, which the
 * server also does by itself at start; that makes it a way to prepare a data directory.
 */
async function main(argv: string[]): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadDatabaseConfig();
  if (config.databaseUrl !== undefined) {
    return runMigrateCommand({
      argv,
      databaseUrl: config.databaseUrl,
      migrationsDir: MIGRATIONS_DIR,
      usage: 'node dist/migrate.js',
      out: (line) => console.log(line),
    });
  }
  if (argv.length > 0) {
    console.error(`${argv.join(' ')}: only for a PostgreSQL server (DATABASE_URL); the embedded database has none to resolve`);
    return 2;
  }
  // Starting the embedded store is what migrates it (same migrator, same bookkeeping).
  const logger = createLogger({ level: config.logLevel, instanceId: 'migrate' });
  const store = createPgliteChatStore({ dataDir: config.dataDir, logger });
  await store.start();
  await store.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : describeMigrateFailure('migrate', error)}\n`);
    process.exitCode = 1;
  },
);
