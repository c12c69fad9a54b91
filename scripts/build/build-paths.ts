/** Where the build tooling (scripts/build) reads and writes, in one place. */
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The release build: `npm run build` writes it, `node dist/main.js` runs it. */
export const DIST_DIR = path.join(REPO_ROOT, 'dist');
/** Outputs that the sources need to run (`npm start`): build/web. */
export const BUILD_DIR = path.join(REPO_ROOT, 'build');
/** One builder at a time per checkout (scripts/build/build-lock.ts). */
export const BUILD_LOCK_FILE = path.join(BUILD_DIR, '.build.lock');
