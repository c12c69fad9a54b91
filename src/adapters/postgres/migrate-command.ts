import { applyMigrations, markRolledBack, MigrationError, readLocalMigrations } from './migrations';
import { redactDatabaseUrl } from './postgres-url';

/**
 * The migration command's behaviour, shared by its two entry points: the release build's
 * `node dist/migrate.js` (src/migrate.ts, production dependencies only) and the
 * developers' `npm run db:migrate` (scripts/db/migrate.ts). They differ only in where the
 * URL and the migrations come from.
 *
 *   (no arguments)                 apply pending migrations (creates the database if missing)
 *   --rolled-back <name>           mark a failed migration rolled back (`prisma migrate resolve --rolled-back`)
 *
 * Returns the exit code; throws on failure (see describeMigrateFailure).
 */
export async function runMigrateCommand({
  argv,
  databaseUrl,
  migrationsDir,
  usage,
  out,
  err,
}: {
  argv: readonly string[];
  databaseUrl: string;
  migrationsDir: string;
  /** How the user invokes it, for messages: `npm run db:migrate --` or `node dist/migrate.js`. */
  usage: string;
  /** Progress (stdout). */
  out: (line: string) => void;
  /** Usage errors (stderr). */
  err: (line: string) => void;
}): Promise<number> {
  const target = redactDatabaseUrl(databaseUrl);
  const rolledBack = argv.indexOf('--rolled-back');
  if (rolledBack !== -1) {
    const migrationName = argv[rolledBack + 1];
    if (!migrationName) throw new MigrationError('NOT_FOUND', `usage: ${usage} --rolled-back <migration name>`);
    await markRolledBack({ databaseUrl, migrationName });
    out(`Marked ${migrationName} as rolled back in ${target}; the next run applies it again.`);
    return 0;
  }
  if (argv.length > 0) {
    err(`unknown arguments: ${argv.join(' ')}`);
    return 2;
  }
  const total = readLocalMigrations(migrationsDir).length;
  out(`Applying ${total} migration(s) from ${migrationsDir} to ${target}`);
  const result = await applyMigrations({ databaseUrl, migrationsDir, log: out });
  if (result.applied.length === 0) {
    out(`No pending migrations: all ${result.alreadyApplied.length} migration(s) were already applied.`);
  } else {
    out(`Applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} were already applied.`);
  }
  return 0;
}

/** One line for stderr: a refusal (the migrator's own checks) or a failure (connection, SQL). */
export function describeMigrateFailure(command: string, error: unknown): string {
  if (error instanceof MigrationError) return `${command} refused: ${error.message}`;
  const e = error as { message?: string; code?: string };
  return `${command} failed: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`;
}
