/**
 * npm run build — the release build, into dist/:
 *
 *   dist/main.js, dist/migrate.js, …   the server compiled by tsc (tsconfig.build.json)
 *   dist/generated/prisma/             the generated Prisma client, compiled with it
 *   dist/web/                          the web client (esbuild)
 *   dist/migrations/                   prisma/migrations, which dist/migrate.js and the embedded database apply
 *   dist/build-info.json               what was built from what (src/release/release-layout.ts looks for it)
 *
 * With the production dependencies (`npm ci --omit=dev`) that is all it takes to run:
 * `node dist/migrate.js`, then `node dist/main.js`. CI builds it, installs it alone into a
 * clean folder and chats with it (scripts/build/smoke-release.ts); the Dockerfile runs
 * this same script.
 *
 * It builds into a temporary sibling and renames it into place under the checkout's build
 * lock, so a server already running from dist/ keeps its files until the swap and two
 * builds never interleave.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_INFO_FILE } from '../../src/release/release-layout';
import { generatePrismaClientIfStale } from '../db/generate';
import { MIGRATIONS_DIR } from '../db/env';
import { buildWeb } from '../web/build-web';
import { withBuildLock } from './build-lock';
import { BUILD_LOCK_FILE, DIST_DIR, REPO_ROOT } from './build-paths';
import { replaceDirectory } from './replace-directory';

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.basename(args[0] ?? command)} exited with ${result.status ?? result.signal}`);
}

/** The commit built, when this is a git checkout (a Docker build context usually is not). */
function gitCommit(): string | undefined {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function build(): Promise<void> {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    engines?: unknown;
  };
  // tsc compiles the generated client with the server, so it must exist first.
  generatePrismaClientIfStale();
  const fresh = `${DIST_DIR}.tmp-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  try {
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', fresh]);
    await buildWeb({ outDir: path.join(fresh, 'web') });
    cpSync(MIGRATIONS_DIR, path.join(fresh, 'migrations'), { recursive: true });
    const info = {
      name: pkg.name,
      version: pkg.version,
      commit: gitCommit() ?? null,
      builtAt: new Date().toISOString(),
      builtWith: process.version,
      engines: pkg.engines ?? null,
    };
    writeFileSync(path.join(fresh, BUILD_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    replaceDirectory(fresh, DIST_DIR);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

const started = Date.now();
withBuildLock(BUILD_LOCK_FILE, build).then(
  () => console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s: node dist/migrate.js, then node dist/main.js`),
  (error: unknown) => {
    console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
