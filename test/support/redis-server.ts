import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './infra';
import { freePort } from './processes';

/**
 * A private redis-server for one test, keeping nothing on disk, that the test may stop
 * and start again on the same port — so a Redis outage never touches the machine's shared
 * Redis. The process is this test's child: stopping it kills only it.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: nothing is saved, connections drop at once). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let spawnError: Error | undefined;
    proc.on('error', (error) => (spawnError = error));
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    try {
      await waitFor(
        `redis-server on ${port}`,
        async () => {
          if (spawnError !== undefined)
            throw new Error(`redis-server is required on PATH for this test (Debian: apt-get install redis-server): ${spawnError.message}`);
          if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${output.join('').slice(-1000)}`);
          if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
          return (await probe.ping()) === 'PONG';
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
    } finally {
      probe.disconnect();
    }
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return { port, url, stop, start };
}
