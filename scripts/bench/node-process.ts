import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(__dirname, '..', '..');

/** A node process the benchmark started: a chat instance or a peer node. */
export interface NodeProcess {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** The last lines it printed, for the error when it dies. */
  readonly tail: string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `script` (TypeScript, through tsx) with `env` and waits until `ready(port)` says
 * it serves, for at most `timeoutMs`. Its output is kept (last 50 lines), not printed:
 * the benchmark's own output is the report.
 */
export async function startNode({
  name,
  script,
  env,
  nodeArgs = [],
  ready,
  timeoutMs = 90_000,
  root = ROOT,
  logFile,
}: {
  name: string;
  /** Relative to `root`. */
  script: string;
  /** The checkout to run it from (default: this one). */
  root?: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  ready: (port: number) => Promise<boolean>;
  timeoutMs?: number;
  /** Also append every line of its output here (a run's logs, to look into one afterwards). */
  logFile?: string;
}): Promise<NodeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(root, script)], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const log = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a' });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      log?.write(`${line}\n`);
      tail.push(line.slice(0, 500));
      if (tail.length > 50) tail.shift();
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: NodeProcess = {
    name,
    port,
    child,
    tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${tail.join('\n')}`);
    if (await ready(port).catch(() => false)) return proc;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${tail.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resident set size of a process, from /proc (bytes). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (kb === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

/** Busy and total CPU time of the whole machine so far (clock ticks), from /proc/stat. */
export async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the machine is nearly idle (under `maxCores` busy for two readings in a row,
 * a second apart), for at most `timeoutMs`: a backlog an earlier phase left (10,000 closed
 * sockets, an overloaded run) is then not measured as the next phase's latency.
 * Returns how long it waited.
 */
export async function waitMachineQuiet({
  maxCores = 0.5,
  timeoutMs = 120_000,
}: { maxCores?: number; timeoutMs?: number } = {}): Promise<number> {
  const started = Date.now();
  const cores = cpus().length;
  let quietReadings = 0;
  let prev = await machineTicks();
  while (quietReadings < 2 && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await machineTicks();
    const busy = ((now.busy - prev.busy) / Math.max(1, now.total - prev.total)) * cores;
    quietReadings = busy < maxCores ? quietReadings + 1 : 0;
    prev = now;
  }
  return Date.now() - started;
}
