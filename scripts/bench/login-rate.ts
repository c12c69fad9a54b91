import { performance } from 'node:perf_hooks';
import bcrypt from 'bcrypt';
import { round } from './stats';

export interface LoginRateResult {
  readonly cost: number;
  readonly concurrency: number;
  readonly loginsPerSec: number;
  readonly loginFailures: number;
  /** bcrypt.compare calls per second in this process, same cost and concurrency. */
  readonly rawComparesPerSec: number;
  readonly ratio: number;
}

/** Runs `op` with `concurrency` callers for `durationMs`; returns completions per second and failures. */
async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (i: number) => Promise<boolean>,
): Promise<{ perSec: number; failures: number }> {
  const start = performance.now();
  let done = 0;
  let failures = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - start < durationMs) {
        if (await op(n++)) done++;
        else failures++;
      }
    }),
  );
  return { perSec: done / ((performance.now() - start) / 1000), failures };
}

/**
 * Logins per second through the cluster (REST → Kafka → the user's owner → bcrypt compare
 * → reply) against the raw bcrypt compare rate at the same cost and concurrency, measured
 * right after in this process on the same machine. bcrypt dominates a login by design; the
 * ratio says what everything else costs.
 */
export async function measureLoginRate({
  users,
  password,
  cost,
  concurrency,
  durationMs,
  login,
}: {
  users: readonly string[];
  password: string;
  cost: number;
  concurrency: number;
  durationMs: number;
  login: (userId: string, password: string, i: number) => Promise<number>;
}): Promise<LoginRateResult> {
  const logins = await closedLoop(concurrency, durationMs, async (i) => (await login(users[i % users.length]!, password, i)) === 200);
  const hash = await bcrypt.hash(password, cost);
  const raw = await closedLoop(concurrency, durationMs, (_i) => bcrypt.compare(password, hash));
  return {
    cost,
    concurrency,
    loginsPerSec: round(logins.perSec),
    loginFailures: logins.failures,
    rawComparesPerSec: round(raw.perSec),
    ratio: round(logins.perSec / raw.perSec, 2),
  };
}
