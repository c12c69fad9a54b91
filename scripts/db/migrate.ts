/**
 * npm run db:migrate — apply prisma/migrations to DATABASE_URL offline, like `prisma migrate deploy`.
 *
 *   npm run db:migrate                              apply pending migrations (creates the database if missing)
 *   npm run db:migrate -- --rolled-back <name>      mark a failed migration rolled back (`prisma migrate resolve --rolled-back`)
 *
 * DATABASE_URL defaults to postgresql://postgres@127.0.0.1:5432/chat. The bookkeeping is
 * Prisma's own (_prisma_migrations, same checksums), so `prisma migrate deploy` on a machine
 * with the native engine sees these migrations as applied. See scripts/db/migrations.ts.
 */
import { databaseUrlFromEnv, MIGRATIONS_DIR, redactUrl } from './env';
import { applyMigrations, markRolledBack, MigrationError, readLocalMigrations } from './migrations';

async function main(argv: string[]): Promise<number> {
  const databaseUrl = databaseUrlFromEnv();
  const target = redactUrl(databaseUrl);

  const rolledBack = argv.indexOf('--rolled-back');
  if (rolledBack !== -1) {
    const migrationName = argv[rolledBack + 1];
    if (!migrationName) throw new MigrationError('NOT_FOUND', 'usage: npm run db:migrate -- --rolled-back <migration name>');
    await markRolledBack({ databaseUrl, migrationName });
    console.log(`Marked ${migrationName} as rolled back in ${target}; the next db:migrate applies it again.`);
    return 0;
  }
  if (argv.length > 0) {
    console.error(`unknown arguments: ${argv.join(' ')}`);
    return 2;
  }

  const total = readLocalMigrations(MIGRATIONS_DIR).length;
  console.log(`Applying ${total} migration(s) from prisma/migrations to ${target}`);
  const result = await applyMigrations({
    databaseUrl,
    migrationsDir: MIGRATIONS_DIR,
    log: (line) => console.log(line),
  });
  if (result.applied.length === 0) {
    console.log(`No pending migrations: all ${result.alreadyApplied.length} migration(s) were already applied.`);
  } else {
    console.log(`Applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} were already applied.`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof MigrationError) {
      console.error(`db:migrate refused: ${error.message}`);
    } else {
      const e = error as { message?: string; code?: string };
      console.error(`db:migrate failed: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`);
    }
    process.exitCode = 1;
  },
);
