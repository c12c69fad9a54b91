import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './infra';
import { freePort } from './processes';

/** Debian's nginx; NGINX_PATH overrides it. */
export const NGINX_PATH = process.env['NGINX_PATH'] ?? '/usr/sbin/nginx';
/** The configuration under test. */
export const NGINX_CONF = path.join(__dirname, '..', '..', 'deploy', 'nginx.conf');

/** Debian's `nobody`: nginx never runs as root in a test, even when the test does. */
const NOBODY = { uid: 65534, gid: 65534 };

export interface RunningNginx {
  readonly port: number;
  readonly url: string;
  /** The error log so far (a failure's context). */
  errorLog(): string;
  /** The access log so far. */
  accessLog(): string;
  stop(): Promise<void>;
}

/**
 * deploy/nginx.conf with the test's instances and port put in: the three `server` lines of
 * `upstream keyed_chat` and the `listen` line are replaced, and nothing else. Fails when
 * the file no longer has that shape, so the test never runs a configuration it did not mean.
 */
export function renderNginxConf(
  source: string,
  { listenPort, upstreamPorts }: { listenPort: number; upstreamPorts: readonly number[] },
): string {
  const upstream = /(upstream keyed_chat \{\n)((?:[ \t]*(?:#.*)?\n)*)((?:[ \t]*server [^\n]+;\n)+)/;
  const match = upstream.exec(source);
  if (match === null) throw new Error(`${NGINX_CONF}: no "upstream keyed_chat" block with server lines to replace`);
  const indent = /^[ \t]*/.exec(match[3]!)![0];
  const options = /server \S+ ([^;\n]*);/.exec(match[3]!)?.[1] ?? '';
  const servers = upstreamPorts.map((p) => `${indent}server 127.0.0.1:${p} ${options};\n`).join('');
  let rendered = source.replace(upstream, `$1$2${servers}`);
  const listens = rendered.match(/^[ \t]*listen [^\n]*;$/gm) ?? [];
  if (listens.length !== 1) throw new Error(`${NGINX_CONF}: expected one listen line, found ${listens.length}`);
  rendered = rendered.replace(/^([ \t]*)listen [^\n]*;$/m, `$1listen 127.0.0.1:${listenPort};`);
  return rendered;
}

/**
 * Runs deploy/nginx.conf unprivileged: a fresh prefix directory holds the rendered
 * configuration, logs, temp files and pid file; it listens on a free high port, in the
 * foreground (`daemon off`), as `nobody` when the test runs as root. Fails loudly, with
 * the install command, when nginx is missing.
 */
export async function startNginx({
  upstreamPorts,
  timeoutMs = 15_000,
}: {
  upstreamPorts: readonly number[];
  timeoutMs?: number;
}): Promise<RunningNginx> {
  if (!existsSync(NGINX_PATH)) {
    throw new Error(
      `nginx is required for the proxy tests and ${NGINX_PATH} does not exist: install it with \`sudo apt-get install -y nginx\` (or set NGINX_PATH)`,
    );
  }
  const port = await freePort();
  const prefix = mkdtempSync(path.join(tmpdir(), 'keyed-chat-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(conf, renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), { listenPort: port, upstreamPorts }));
  const errorLogPath = path.join(prefix, 'logs', 'error.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    for (const p of [prefix, path.join(prefix, 'logs'), conf]) chownSync(p, NOBODY.uid, NOBODY.gid);
  }
  const child: ChildProcess = spawn(
    NGINX_PATH,
    ['-p', prefix, '-c', conf, '-e', errorLogPath, '-g', `daemon off; pid ${path.join(prefix, 'nginx.pid')};`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group: the workers go with the master if it has to be killed.
      detached: true,
      ...(asRoot ? NOBODY : {}),
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const read = (file: string): string => {
    try {
      return readFileSync(path.join(prefix, 'logs', file), 'utf8');
    } catch {
      return '';
    }
  };
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const running: RunningNginx = {
    port,
    url: `http://127.0.0.1:${port}`,
    errorLog: () => `${stderr}${read('error.log')}`,
    accessLog: () => read('access.log'),
    async stop() {
      // SIGQUIT: graceful, workers finish their requests; bounded, then the whole group.
      const force = setTimeout(() => signalGroup('SIGKILL'), 5_000);
      signalGroup('SIGQUIT');
      await exited;
      clearTimeout(force);
      signalGroup('SIGKILL');
      child.stderr?.destroy();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      'nginx to listen',
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
        const res = await fetch(`${running.url}/healthz`).catch(() => undefined);
        return res?.ok === true;
      },
      { timeoutMs, intervalMs: 100 },
    );
  } catch (error) {
    const log = running.errorLog();
    await running.stop();
    throw new Error(`${String(error)}\nnginx error log:\n${log}`);
  }
  return running;
}
