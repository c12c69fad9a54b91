/**
 * A digest of the files a build step reads, so that the step can be skipped when its
 * output was made from the same inputs (the output keeps the digest in STAMP_FILE).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const STAMP_FILE = '.inputs-sha256';

function listFiles(p: string): string[] {
  if (!existsSync(p)) return [];
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((name) => listFiles(path.join(p, name)));
}

/** SHA-256 over the paths and contents of every file under `paths`, plus `extra` strings (tool versions). */
export function inputsHash(paths: readonly string[], extra: readonly string[] = []): string {
  const hash = createHash('sha256');
  for (const s of extra) hash.update(`extra ${s}\n`);
  for (const file of paths.flatMap(listFiles)) {
    hash.update(`file ${file}\n`);
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** The digest a previous build left in `dir`, if any. */
export function readStamp(dir: string): string | undefined {
  try {
    return readFileSync(path.join(dir, STAMP_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}
