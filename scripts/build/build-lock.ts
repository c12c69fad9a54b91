/**
 * A lock file that several builds of one checkout wait on, one at a time: the README's
 * by-hand cluster starts three `npm start`s at once, and their prestarts used to build
 * into the same directories together (ENOTEMPTY, one instance never started). The second
 * one waits here, then finds the outputs up to date and skips. A lock left by a process
 * that died is taken over; the wait is bounded, so a stuck holder fails the start loudly.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from '../../src/adapters/pglite/data-dir-lock';

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Runs `fn` holding the lock `file`, waiting up to `timeoutMs` for another holder. */
export async function withBuildLock<T>(
  file: string,
  fn: () => Promise<T>,
  { timeoutMs = 300_000 }: { timeoutMs?: number } = {},
): Promise<T> {
  mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    } catch (error) {
      // Released between our attempt and this read: try again at once.
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    // NaN: the holder created the file but has not written its pid yet, so it is alive.
    if (Number.isInteger(holder) && !isAlive(holder)) {
      try {
        unlinkSync(file);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${file} is still held by process ${holder} after ${timeoutMs} ms; is a build stuck?`);
    if (!announced) {
      console.error(`waiting for the build of process ${holder} (${path.relative(process.cwd(), file)})`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      // Already gone (someone judged us dead): nothing to give back.
    }
  }
}
