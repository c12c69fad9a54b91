/**
 * npm run build:web — bundles the web client (web/) into build/web (git-ignored) with
 * esbuild: web/src/chat-app.ts → assets/chat.js, web/src/admin-app.ts → assets/admin.js,
 * and copies the pages and the stylesheet. `npm start` runs it when web/ changed
 * (scripts/build/prepare-start.ts) and `npm run build` into dist/web; the server serves
 * the result (src/gateway/http/web-routes.ts). Type checking of web/ is
 * `npm run typecheck` (esbuild only strips types).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, version as esbuildVersion } from 'esbuild';
import { BUILD_LOCK_FILE } from '../build/build-paths';
import { withBuildLock } from '../build/build-lock';
import { inputsHash, readStamp, STAMP_FILE } from '../build/inputs-hash';
import { replaceDirectory } from '../build/replace-directory';
import { WEB_DIR as WEB_BUILD_DIR } from '../../src/release/release-layout';

const WEB_SOURCE_DIR = path.resolve(__dirname, '..', '..', 'web');

export async function buildWeb({
  outDir = WEB_BUILD_DIR,
  minify = true,
}: { /** Default build/web. */ outDir?: string; /** Default true. */ minify?: boolean } = {}): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: { chat: path.join(WEB_SOURCE_DIR, 'src', 'chat-app.ts'), admin: path.join(WEB_SOURCE_DIR, 'src', 'admin-app.ts') },
    outdir: path.join(outDir, 'assets'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // Browsers of the last few years; the code uses nothing newer than ES2022.
    target: ['es2022'],
    minify,
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: path.join(WEB_SOURCE_DIR, 'tsconfig.json'),
  });
  for (const file of ['index.html', 'admin.html']) copyFileSync(path.join(WEB_SOURCE_DIR, file), path.join(outDir, file));
  copyFileSync(path.join(WEB_SOURCE_DIR, 'style.css'), path.join(outDir, 'assets', 'style.css'));
}

/** What the bundle is made from: web/, this script and esbuild's version. */
export function webInputsHash(): string {
  return inputsHash([WEB_SOURCE_DIR, __filename], [`esbuild ${esbuildVersion}`]);
}

/**
 * Builds the client into a temporary sibling of `outDir` and renames it into place, with
 * the inputs' digest inside; with `ifStale`, does nothing when `outDir` already holds a
 * build of the same inputs. Concurrent callers must hold scripts/build/build-lock.ts's
 * lock (npm start does): the rename keeps a running server from seeing a half-built
 * client, the lock keeps two builds from swapping at once.
 */
export async function buildWebInto(outDir: string, { ifStale = false }: { ifStale?: boolean } = {}): Promise<'built' | 'up to date'> {
  const hash = webInputsHash();
  if (ifStale && readStamp(outDir) === hash) return 'up to date';
  const fresh = `${outDir}.tmp-${process.pid}`;
  try {
    await buildWeb({ outDir: fresh });
    writeFileSync(path.join(fresh, STAMP_FILE), `${hash}\n`);
    mkdirSync(path.dirname(outDir), { recursive: true });
    replaceDirectory(fresh, outDir);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  return 'built';
}

if (require.main === module) {
  const started = Date.now();
  withBuildLock(BUILD_LOCK_FILE, () => buildWebInto(WEB_BUILD_DIR)).then(
    () =>
      console.log(`web client built into ${path.relative(process.cwd(), WEB_BUILD_DIR) || WEB_BUILD_DIR} in ${Date.now() - started} ms`),
    (error: unknown) => {
      console.error(`build:web failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
