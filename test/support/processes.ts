import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './infra';

/** A line of an instance's JSON log. */
export type LogLine = Record<string, unknown> & { msg?: string; event?: string };

export interface InstanceProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs src/main.ts as its own OS process (node with tsx), so a test can SIGKILL it. Its
 * JSON log lines are collected; a crash shows its last lines in the test output.
 */
export async function startInstance(name: string, env: Record<string, string>): Promise<InstanceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...env,
      PORT: String(port),
      INSTANCE_ID: name,
      LOG_LEVEL: env['LOG_LEVEL'] ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const instance: InstanceProcess = {
    name,
    port,
    url,
    child,
    logs,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  try {
    await waitFor(
      `${name} to listen`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr.join('').slice(-2000)}`);
        const res = await fetch(`${url}/healthz`).catch(() => undefined);
        return res?.ok === true;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (error) {
    // Never leave a half-started process behind: it would keep jest (and CI) from exiting.
    await instance.stop('SIGKILL');
    const tail = logs
      .slice(-15)
      .map((l) => JSON.stringify(l).slice(0, 400))
      .join('\n');
    throw new Error(`${String(error)}\nlast log lines of ${name}:\n${tail}`);
  }
  return instance;
}

/** GET a JSON document. */
/**
 * Starts instances one after another (the first creates the topics, the others join its
 * group) and waits, bounded, until every one answers /readyz with 200. Pushes each into
 * `into` as it starts, so an afterAll stops what did start even when a later one fails.
 */
export async function startReadyInstances(
  names: readonly string[],
  env: Record<string, string>,
  into: InstanceProcess[] = [],
): Promise<InstanceProcess[]> {
  for (const name of names) into.push(await startInstance(name, env));
  await waitFor(
    `${names.length === 1 ? 'the instance' : `all ${names.length} instances`} ready`,
    async () => {
      for (const i of into) if ((await getJson(`${i.url}/readyz`)).status !== 200) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return into;
}

export async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

/** The value of a Prometheus counter/gauge with exactly these labels (0 when absent). */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries(
      (m[3] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const [k, v] = kv.split('=');
          return [k!, v!.replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4]);
  }
  return total;
}

/** The warnings and errors an instance logged, and every line mentioning one of `needles`: context for a failure. */
export function logContext(instances: readonly InstanceProcess[], needles: readonly string[] = [], max = 40): string {
  return instances
    .map((i) => {
      const lines = i.logs.filter((l) => Number(l['level']) >= 40 || needles.some((n) => JSON.stringify(l).includes(n)));
      return `--- ${i.name} (${lines.length} lines)\n${lines
        .slice(-max)
        .map((l) => JSON.stringify(l).slice(0, 600))
        .join('\n')}`;
    })
    .join('\n');
}
