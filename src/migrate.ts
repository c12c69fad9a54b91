import { existsSync } from 'node:fs';
import { ConfigError, loadDatabaseConfig } from './config/config';
import { openEmbeddedDatabase } from './adapters/pglite/embedded-database';
import { describeMigrateFailure, runMigrateCommand } from './adapters/postgres/migrate-command';
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
      err: (line) => console.error(line),
    });
  }
  if (argv.length > 0) {
    console.error(`${argv.join(' ')}: only for a PostgreSQL server (DATABASE_URL); the embedded database has none to resolve`);
    return 2;
  }
  console.log(`Applying the migrations from ${MIGRATIONS_DIR} to the embedded PostgreSQL (DATA_DIR=${config.dataDir})`);
  const embedded = await openEmbeddedDatabase({ dataDir: config.dataDir, log: (line) => console.log(line) });
  await embedded.close();
  const { applied, alreadyApplied } = embedded.migrations;
  console.log(
    applied.length === 0
      ? `No pending migrations: all ${alreadyApplied.length} migration(s) were already applied.`
      : `Applied ${applied.length} migration(s); ${alreadyApplied.length} were already applied.`,
  );
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
