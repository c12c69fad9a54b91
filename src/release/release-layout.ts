import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the server finds the files it reads at run time besides its own code: the built
 * web client and the migrations.
 *
 * The server runs two ways. From a release build (`npm run build`, then `node dist/main.js`)
 * they sit beside the compiled code, in dist/web and dist/migrations, so dist/ plus the
 * production dependencies is all a deployment needs. From the sources (`npm start`, tests)
 * they are where the tooling keeps them: build/web (`npm run build:web`) and
 * prisma/migrations. The build writes BUILD_INFO_FILE into dist/, which is how this module
 * tells the two apart; guessing from the directory's name would break on a renamed dist/.
 */

/** Written by `npm run build` at the top of dist/ (version, commit, inputs). */
export const BUILD_INFO_FILE = 'build-info.json';

/** src/ when running from the sources, dist/ in a release build. */
const SERVER_ROOT = path.resolve(__dirname, '..');

export const IS_RELEASE_BUILD = existsSync(path.join(SERVER_ROOT, BUILD_INFO_FILE));

/** The built web client (index.html, admin.html, assets/). */
export const WEB_DIR = IS_RELEASE_BUILD ? path.join(SERVER_ROOT, 'web') : path.join(SERVER_ROOT, '..', 'build', 'web');

/** Prisma's migrations layout: <name>/migration.sql and migration_lock.toml. */
export const MIGRATIONS_DIR = IS_RELEASE_BUILD
  ? path.join(SERVER_ROOT, 'migrations')
  : path.join(SERVER_ROOT, '..', 'prisma', 'migrations');
