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
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { offlinePrismaEnv, prismaCli, REPO_ROOT } from './env';

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

const { bin } = prismaCli('prisma');
warnIfPrismaBinIsPrisma6();
const result = spawnSync(process.execPath, [bin, 'generate', ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  env: offlinePrismaEnv(),
  stdio: 'inherit',
});
if (result.error) throw result.error;
process.exitCode = result.status ?? 1;
