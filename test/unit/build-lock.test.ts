import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withBuildLock } from '../../scripts/build/build-lock';
import { replaceDirectory } from '../../scripts/build/replace-directory';

/**
 * What lets several `npm start`s of one checkout start together (the README's by-hand
 * cluster): builds take turns under a lock file, a lock left by a dead process is taken
 * over, and a fresh build replaces the old output in one rename.
 */
describe('build lock and directory replacement', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'build-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs concurrent builders one at a time', async () => {
    const lock = path.join(dir, 'sub', '.build.lock');
    const events: string[] = [];
    const builder = (name: string) =>
      withBuildLock(lock, async () => {
        events.push(`${name} in`);
        // Yield to the event loop so the other builder gets to try the lock meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setTimeout(resolve, 30));
        events.push(`${name} out`);
      });
    await Promise.all([builder('a'), builder('b'), builder('c')]);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]?.replace(' in', '')).toBe(events[i + 1]?.replace(' out', ''));
    }
    expect(events).toHaveLength(6);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose process is gone, and releases it when the build fails', async () => {
    const lock = path.join(dir, '.build.lock');
    // A pid that surely is not running: a child that has already exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(lock, `${dead}\n`);
    await expect(withBuildLock(lock, async () => Promise.reject(new Error('build broke')), { timeoutMs: 5_000 })).rejects.toThrow(
      'build broke',
    );
    expect(existsSync(lock)).toBe(false);
  });

  it('gives up, bounded, on a lock a live process holds', async () => {
    const lock = path.join(dir, '.build.lock');
    writeFileSync(lock, `${process.ppid}\n`);
    await expect(withBuildLock(lock, async () => 'never', { timeoutMs: 300 })).rejects.toThrow(/still held by process/);
  });

  it('replaces a non-empty directory with a fresh one, and creates it when absent', () => {
    const target = path.join(dir, 'web');
    const fresh = path.join(dir, 'web.tmp');
    mkdirSync(fresh);
    writeFileSync(path.join(fresh, 'index.html'), 'one');
    replaceDirectory(fresh, target);
    expect(readFileSync(path.join(target, 'index.html'), 'utf8')).toBe('one');
    mkdirSync(fresh);
    writeFileSync(path.join(fresh, 'index.html'), 'two');
    replaceDirectory(fresh, target);
    expect(readFileSync(path.join(target, 'index.html'), 'utf8')).toBe('two');
    expect(existsSync(fresh)).toBe(false);
    expect(existsSync(`${target}.old-${process.pid}`)).toBe(false);
  });
});
