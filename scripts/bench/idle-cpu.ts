/**
 * The CPU of server instances with no client connected, in two windows of `seconds` each:
 * the first once start-up has gone quiet, and a second that starts `steadyAfterS` after the
 * instances were ready: what an instance left idle costs, the figure issue #12's target is
 * about. Each instance's cores beside the brokers' and the rest of the account.
 *
 * Why two: for about the first 40 s after it is ready a Node.js process still finishes its
 * start-up, on its own threads: V8 compiles what start-up ran hot and its memory reducer
 * collects the start-up heap once allocation slows (a `perf record -s` of an idle instance's
 * first 30 s: a third of its samples in GC marking and sweeping). A window there measured
 * 0.010–0.028 cores where the same instance idled at 0.005–0.009 from a minute on
 * (docs/benchmarks.md, eighth round). Both are reported; neither hides the other.
 */
import type { ChatTarget } from './chat-target';
import { brokerPids, postgresPids, redisPids, startCpuReading, type CpuAccount } from './cpu-account';
import { waitMachineQuiet } from './node-process';

export interface IdleWindow {
  /** Cores of each instance, in start order. */
  readonly perInstance: number[];
  readonly cpu: CpuAccount;
}

export interface IdleCpuResult extends IdleWindow {
  readonly seconds: number;
  /** Seconds after the instances were ready when the window of `perInstance` and `cpu` began. */
  readonly steadyAfterS: number;
  /** The first window once start-up went quiet (its tail of GC and JIT included). */
  readonly startUp: IdleWindow;
}

export async function measureIdleCpu({
  target,
  seconds,
  steadyAfterS,
  infraDir,
}: {
  /** Started and ready when this is called. */
  target: ChatTarget;
  seconds: number;
  steadyAfterS: number;
  infraDir: string;
}): Promise<IdleCpuResult> {
  const readyAt = Date.now();
  const pids = target.pids();
  const window = async (): Promise<IdleWindow> => {
    const reading = await startCpuReading({
      ...Object.fromEntries(pids.map((pid, i) => [`instance${i + 1}`, async () => [pid]])),
      brokers: () => brokerPids(infraDir),
      postgres: postgresPids,
      redis: redisPids,
      generator: async () => [process.pid],
    });
    await sleep(seconds * 1000);
    const cpu = await reading.stop();
    return { perInstance: pids.map((_, i) => cpu.cores[`instance${i + 1}`] ?? NaN), cpu };
  };
  // Topic creation and rebalances settle first.
  await waitMachineQuiet({ timeoutMs: 30_000 });
  const startUp = await window();
  await sleep(readyAt + steadyAfterS * 1000 - Date.now());
  const steady = await window();
  return { seconds, steadyAfterS: Math.round((Date.now() - readyAt) / 1000) - seconds, ...steady, startUp };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
