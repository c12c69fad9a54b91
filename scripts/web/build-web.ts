/**
 * npm run build:web — bundles the web client (web/) into build/web (git-ignored) with
 * esbuild: web/src/chat-app.ts → assets/chat.js, web/src/admin-app.ts → assets/admin.js,
 * and copies the pages and the stylesheet. `npm start` runs it first (prestart); the
 * server serves the result (src/gateway/http/web-routes.ts). Type checking of web/ is
 * `npm run typecheck` (esbuild only strips types).
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { WEB_BUILD_DIR } from '../../src/gateway/http/web-routes';

const WEB_SOURCE_DIR = path.resolve(__dirname, '..', '..', 'web');

export async function buildWeb({ outDir = WEB_BUILD_DIR, minify = true }: { /** Default build/web. */ outDir?: string; /** Default true. */ minify?: boolean } = {}): Promise<void> {
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

if (require.main === module) {
  const started = Date.now();
  buildWeb().then(
    () => console.log(`web client built into ${path.relative(process.cwd(), WEB_BUILD_DIR) || WEB_BUILD_DIR} in ${Date.now() - started} ms`),
    (error: unknown) => {
      console.error(`build:web failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
