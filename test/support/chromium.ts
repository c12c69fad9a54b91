import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The flags the browser tests run Chromium with (besides a fresh --user-data-dir and the DevTools port). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export interface LaunchedChromium {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium with exactly our flags and a fresh profile directory, and
 * attaches playwright-core to it over the DevTools protocol. (Playwright's own `launch`
 * adds flags of its own and refuses a --user-data-dir; attaching keeps the command line
 * ours.) Fails loudly, with the install command, when Chromium is missing: browser tests
 * are never skipped.
 */
export async function launchChromium({ timeoutMs = 30_000 }: { /** Default 30 s. */ timeoutMs?: number } = {}): Promise<LaunchedChromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is required for the browser tests and ${CHROMIUM_PATH} does not exist: install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH)`,
    );
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'keyed-chat-chromium-'));
  // Its own process group: Chromium's helper processes (renderers, utilities) outlive the
  // main one unless the whole group is signalled, and would keep writing the profile and
  // holding our stderr pipe, so jest could not exit.
  const child: ChildProcess = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const cleanUp = async (): Promise<void> => {
    // Chromium writes its profile until every process of it has exited: stop the whole
    // group (bounded), then remove the profile.
    const timer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    signalGroup('SIGTERM');
    await exited;
    clearTimeout(timer);
    signalGroup('SIGKILL');
    child.stderr?.destroy();
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        return;
      } catch {
        // A helper that was still flushing: give it a moment; a leftover temp dir is no failure.
        if (attempt >= 10) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(
        () => reject(new Error(`Chromium did not open its DevTools port within ${timeoutMs} ms:\n${stderr}`)),
        timeoutMs,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Chromium exited (${code}) before it was ready:\n${stderr}`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const browser = await chromium.connectOverCDP(endpoint);
    return {
      browser,
      async close() {
        await browser.close().catch(() => undefined);
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
