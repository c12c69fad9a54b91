/**
 * The CPU of server instances with no client connected: after they started and joined,
 * each instance's cores over `seconds`, beside the brokers' and the rest of the account.
 */
import type { ChatTarget } from './chat-target';
import { brokerPids, postgresPids, redisPids, startCpuReading, type CpuAccount } from './cpu-account';
import { waitMachineQuiet } from './node-process';

export interface IdleCpuResult {
  readonly seconds: number;
  /** Cores of each instance, in start order. */
  readonly perInstance: number[];
  readonly cpu: CpuAccount;
}

export async function measureIdleCpu({
  target,
  seconds,
  infraDir,
}: {
  target: ChatTarget;
  seconds: number;
  infraDir: string;
}): Promise<IdleCpuResult> {
  // Startup work (JIT, topic creation, rebalances) settles first.
  await waitMachineQuiet({ timeoutMs: 30_000 });
  const pids = target.pids();
  const reading = await startCpuReading({
    ...Object.fromEntries(pids.map((pid, i) => [`instance${i + 1}`, async () => [pid]])),
    brokers: () => brokerPids(infraDir),
    postgres: postgresPids,
    redis: redisPids,
    generator: async () => [process.pid],
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = await reading.stop();
  return { seconds, perInstance: pids.map((_, i) => cpu.cores[`instance${i + 1}`] ?? NaN), cpu };
}
