/**
 * npm run db:generate — `prisma generate` (Prisma 7) offline, into src/generated/prisma.
 *
 * The Prisma CLI downloads its native schema engine on first use, which fails without
 * internet; `generate` never runs that engine, and skips the download when
 * PRISMA_SCHEMA_ENGINE_BINARY names an existing file. This points it at
 * scripts/db/schema-engine-unavailable.sh unless the variable is already set.
 * The generated client needs no engine at run time (it uses @prisma/adapter-pg).
 * Extra arguments are passed on, e.g. `npm run db:generate -- --watch`.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inputsHash, readStamp, STAMP_FILE } from '../build/inputs-hash';
import { offlinePrismaEnv, prismaCli, REPO_ROOT, SCHEMA_PATH } from './env';

function warnIfPrismaBinIsPrisma6(): void {
  // The `prisma6` alias declares a `prisma` bin too. A fresh install links Prisma 7's, but
  // adding packages later can leave node_modules/.bin/prisma pointing at Prisma 6.
  try {
    const target = readlinkSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'prisma'));
    if (target.includes('prisma6')) {
      console.warn(
        'warning: node_modules/.bin/prisma is Prisma 6 (the prisma6 alias), so `npx prisma` runs 6.19.\n' +
          '         Fix: rm node_modules/.bin/prisma && npm rebuild prisma',
      );
    }
  } catch {
    // Not a symlink (or absent): nothing to say.
  }
}

/** Runs `prisma generate` (with `args`); returns its exit code. */
export function generatePrismaClient(args: readonly string[] = []): number {
  const { bin } = prismaCli('prisma');
  warnIfPrismaBinIsPrisma6();
  const result = spawnSync(process.execPath, [bin, 'generate', ...args], {
    cwd: REPO_ROOT,
    env: offlinePrismaEnv(),
    stdio: 'inherit',
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Where the client goes (schema.prisma's generator output). */
export const GENERATED_CLIENT_DIR = path.join(REPO_ROOT, 'src', 'generated', 'prisma');

/** What the generated client is made from: the schema and the generator's version. */
export function prismaInputsHash(): string {
  return inputsHash([SCHEMA_PATH], [`prisma ${prismaCli('prisma').version}`]);
}

/**
 * Generates the client unless the one there was made from the same schema and Prisma
 * version (its stamp says so). `npm start` runs this on every start, so it must be cheap
 * when nothing changed.
 */
export function generatePrismaClientIfStale(): void {
  const hash = prismaInputsHash();
  if (readStamp(GENERATED_CLIENT_DIR) === hash) return;
  const code = generatePrismaClient(['--no-hints']);
  if (code !== 0) throw new Error(`prisma generate exited with ${code}`);
  writeFileSync(path.join(GENERATED_CLIENT_DIR, STAMP_FILE), `${hash}\n`);
}

if (require.main === module) process.exitCode = generatePrismaClient(process.argv.slice(2));
