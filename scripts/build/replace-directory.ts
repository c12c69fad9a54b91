/**
 * Puts a freshly built directory in place of an old one. Builds go to a temporary sibling
 * and are renamed into place, so a running server never reads a half-written web client
 * and a failed build leaves the previous output intact. rename(2) cannot replace a
 * non-empty directory, so the old one is renamed aside first; the gap between the two
 * renames is a few microseconds, during which a request for a page would get the server's
 * "not built" answer.
 */
import { renameSync, rmSync } from 'node:fs';

export function replaceDirectory(fresh: string, target: string): void {
  const aside = `${target}.old-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  try {
    renameSync(target, aside);
  } catch (error) {
    if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT')) throw error;
  }
  renameSync(fresh, target);
  rmSync(aside, { recursive: true, force: true });
}
