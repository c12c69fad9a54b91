import { performance } from 'node:perf_hooks';
import bcrypt from 'bcrypt';
import { round } from './stats';
import { errorLine } from './error-line';

export interface LoginRateResult {
  readonly cost: number;
  readonly concurrency: number;
  readonly loginsPerSec: number;
  readonly loginFailures: number;
  /** bcrypt.compare calls per second in this process, same cost and concurrency. */
  readonly rawComparesPerSec: number;
  readonly ratio: number;
  /** Kafka records the logins wrote, per login (when the target counts its records). */
  readonly recordsPerLogin?: number;
  /**
   * The same raw compares while a bare kafkajs path moved the logins' Kafka records per
   * second (`besideKafka`): what is left for bcrypt once Kafka has done a login's share.
   */
  readonly rawBesideKafkaPerSec?: number;
  /** rawBesideKafkaPerSec / rawComparesPerSec: the ratio a login could reach with nothing of ours. */
  readonly kafkaCeiling?: number;
  /** Why the compares beside Kafka were not measured. */
  readonly besideKafkaError?: string;
}

/** Runs `op` with `concurrency` callers for `durationMs`; returns completions per second and failures. */
async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (i: number) => Promise<boolean>,
): Promise<{ perSec: number; done: number; failures: number }> {
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
  return { perSec: done / ((performance.now() - start) / 1000), done, failures };
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
  kafkaRecords,
  besideKafka,
}: {
  users: readonly string[];
  password: string;
  cost: number;
  concurrency: number;
  durationMs: number;
  login: (userId: string, password: string, i: number) => Promise<number>;
  /** The Kafka records the target has written so far (to count a login's). */
  kafkaRecords?: () => Promise<number>;
  /** Runs `during` while Kafka, with none of our code, moves `recordsPerSec` (measure-floor.ts). */
  besideKafka?: (recordsPerSec: number, seconds: number, during: () => Promise<number>) => Promise<number>;
}): Promise<LoginRateResult> {
  const recordsBefore = await kafkaRecords?.().catch(() => undefined);
  const logins = await closedLoop(concurrency, durationMs, async (i) => (await login(users[i % users.length]!, password, i)) === 200);
  const recordsAfter = await kafkaRecords?.().catch(() => undefined);
  const hash = await bcrypt.hash(password, cost);
  const compare = async (): Promise<number> => (await closedLoop(concurrency, durationMs, (_i) => bcrypt.compare(password, hash))).perSec;
  const raw = await compare();
  const attempts = logins.done + logins.failures;
  const recordsPerLogin =
    recordsBefore === undefined || recordsAfter === undefined || attempts === 0 ? undefined : (recordsAfter - recordsBefore) / attempts;
  let beside: number | { error: string } | undefined;
  if (besideKafka !== undefined && recordsPerLogin !== undefined)
    beside = await besideKafka(logins.perSec * recordsPerLogin, durationMs / 1000, compare).catch((error: unknown) => ({
      error: errorLine(error),
    }));
  return {
    cost,
    concurrency,
    loginsPerSec: round(logins.perSec),
    loginFailures: logins.failures,
    rawComparesPerSec: round(raw),
    ratio: round(logins.perSec / raw, 2),
    ...(recordsPerLogin === undefined ? {} : { recordsPerLogin: round(recordsPerLogin, 2) }),
    ...(beside === undefined
      ? {}
      : typeof beside === 'number'
        ? { rawBesideKafkaPerSec: round(beside), kafkaCeiling: round(beside / raw, 2) }
        : { besideKafkaError: beside.error }),
  };
}
