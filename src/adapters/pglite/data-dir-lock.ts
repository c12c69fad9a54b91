import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Held while a process uses a data directory; `release` gives it back. */
export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'keyed-chat.pid';
/** Directories this process holds: a second store of the same process must be refused too. */
const heldHere = new Set<string>();

/** Whether a process with this id runs (signal 0 checks without signalling). Also the build lock's test of a holder. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * Takes a data directory for this process, creating it if needed. PGlite is PostgreSQL
 * in single-user mode inside one process: two processes opening the same files corrupt
 * them, and a newcomer who runs `PORT=3001 npm start` beside a running instance would do
 * just that. So the second one is refused with a message saying what to do instead. A lock
 * left by a process that died is taken over.
 */
export function lockDataDir({
  dir,
  what = 'the embedded database',
}: {
  dir: string;
  /** Names the user of the directory in the error. Default "the embedded database". */ what?: string;
}): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  if (heldHere.has(file)) throw new Error(`${dir} is already open in this process: ${what} can be opened once; share the store instead`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'EEXIST') || attempt > 0) throw error;
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `${dir} is in use by process ${holder}: ${what} serves one process. ` +
            'Stop that one, set DATA_DIR to another directory, or run several instances on PostgreSQL (DATABASE_URL), Redis and Kafka as the README shows.',
        );
      }
      // Stale: its process is gone.
      unlinkSync(file);
    }
  }
  heldHere.add(file);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      heldHere.delete(file);
      try {
        unlinkSync(file);
      } catch {
        // Already gone: nothing to give back.
      }
    },
  };
}
