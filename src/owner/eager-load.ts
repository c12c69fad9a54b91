import { performance } from 'node:perf_hooks';
import { liveFromMirror, type OwnerContext } from './owner-context';

export type EagerLoadOutcome = 'loaded' | 'timeout' | 'failed' | 'off';

export interface EagerLoadResult {
  readonly outcome: EagerLoadOutcome;
  /** Users loaded (a timed-out or failed load keeps the partitions it finished). */
  readonly users: number;
  readonly ms: number;
}

/**
 * Loads the state of the users on newly assigned partitions before their records are
 * handled (the bus holds those records until onAssigned settles): every user the session
 * mirror lists under each partition, with their live sessions. Memberships are not cached
 * by the owner (the send path reads them in the query that gives the fan-out list), so
 * there is nothing else to load.
 *
 * Bounded: after `ctx.eagerLoadTimeoutMs` it gives up and the records go on; whatever
 * was not loaded by then is loaded lazily on first use (ensureUser), and results that
 * arrive later are dropped so they never race those lazy loads. A failing mirror (Redis
 * down) falls back to lazy loading the same way. Never throws.
 */
export async function eagerLoad(ctx: Omit<OwnerContext, 'publish'>, partitions: readonly number[]): Promise<EagerLoadResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (ctx.eagerLoadTimeoutMs <= 0 || partitions.length === 0) return { outcome: 'off', users: 0, ms: 0 };
  let abandoned = false;
  let users = 0;
  const loadOne = async (partition: number): Promise<void> => {
    const sessions = await ctx.mirror.loadPartition(partition);
    // Applied per partition as each arrives, in one synchronous step, unless given up on.
    if (abandoned || !ctx.users.owns(partition)) return;
    const now = ctx.now();
    for (const [userId, mirrored] of sessions) {
      if (ctx.users.get(partition, userId) !== undefined) continue;
      ctx.users.load(partition, userId, liveFromMirror(mirrored), now);
      users++;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.eagerLoadTimeoutMs);
  });
  let outcome: EagerLoadOutcome;
  let err: string | undefined;
  try {
    outcome = await Promise.race([Promise.all(partitions.map(loadOne)).then(() => 'loaded' as const), timedOut]);
  } catch (error) {
    outcome = 'failed';
    err = error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
    abandoned = true;
  }
  const result: EagerLoadResult = { outcome, users, ms: elapsed() };
  ctx.metrics.eagerLoadSeconds.observe({ outcome }, result.ms / 1000);
  ctx.metrics.eagerLoadUsers.inc(users);
  const fields = {
    event: 'partitions.loaded',
    partitions,
    outcome,
    users,
    ms: result.ms,
    timeoutMs: ctx.eagerLoadTimeoutMs,
    ...(err === undefined ? {} : { err }),
  };
  if (outcome === 'loaded') ctx.logger.info(fields, `loaded ${users} users of ${partitions.length} assigned partitions in ${result.ms} ms`);
  else ctx.logger.warn(fields, `eager load ${outcome} after ${result.ms} ms (${users} users loaded); the rest load lazily on first use`);
  return result;
}
