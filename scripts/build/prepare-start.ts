/**
 * `npm start`'s prestart: makes what running from the sources needs — the generated Prisma
 * client and the web client in build/web — and skips each when it was already made from
 * the same inputs, so a start after the first costs a few hashes.
 *
 * Several `npm start`s from one checkout at once (the README's by-hand cluster) used to
 * regenerate and rebuild into the same directories together and fail (ENOTEMPTY). Now
 * they take the checkout's build lock one after the other: the first builds, the rest
 * find everything up to date.
 */
import { generatePrismaClientIfStale } from '../db/generate';
import { buildWebInto } from '../web/build-web';
import { WEB_DIR } from '../../src/release/release-layout';
import { withBuildLock } from './build-lock';
import { BUILD_LOCK_FILE } from './build-paths';

withBuildLock(BUILD_LOCK_FILE, async () => {
  generatePrismaClientIfStale();
  const web = await buildWebInto(WEB_DIR, { ifStale: true });
  if (web === 'built') console.error('web client built into build/web');
}).catch((error: unknown) => {
  console.error(`prestart failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
