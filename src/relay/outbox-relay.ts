import { backoffDelay, defaultBackoff, type BackoffPolicy } from '../domain/backoff';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Bus, OutboundRecord } from '../ports/bus';
import type { Outbox, OutboxEntry } from '../ports/outbox';
import type { Service } from '../ports/service';
import { outboxRecord } from './outbox-record';

export interface OutboxRelay extends Service {
  /**
   * Asks for a pass now. Called after a commit that wrote outbox rows on this instance, so
   * its members hear of the change at once rather than at the next poll.
   */
  nudge(): void;
}

/**
 * The outbox relay: produces what REST changes wrote to the outbox (src/ports/outbox.ts).
 * Each pass claims up to `batchSize` pending rows (rows another instance's relay holds are
 * skipped, so every instance may run one), produces their records and waits for the bus to
 * acknowledge them (acks=all on Kafka) before the rows are deleted; a full pass is followed
 * by another at once, a partial one by a wait of `pollIntervalMs` or a nudge. Empty looks in
 * a row wait longer each time (`pollIntervalMs` doubled per look, at most `idlePollMaxMs`):
 * WHY: a change made on this instance nudges its relay, so polling only finds rows a
 * crashed instance left; an idle cluster should not query PostgreSQL every second for that.
 * A pass that found rows, or a nudge, starts again from `pollIntervalMs`.
 *
 * At-least-once: a crash between the produce and the delete produces the rows again with
 * the same record ids; the consumers (the members' owners, then the clients) are idempotent.
 * A failed pass (database or Kafka unavailable) is retried with capped exponential backoff
 * and jitter; nothing is deleted that was not acknowledged.
 */
export function createOutboxRelay({
  outbox,
  bus,
  topics,
  batchSize,
  pollIntervalMs,
  idlePollMaxMs = pollIntervalMs,
  backoff = defaultBackoff,
  logger,
  metrics,
  now = Date.now,
}: {
  outbox: Outbox;
  bus: Bus;
  topics: { readonly chat: string };
  batchSize: number;
  pollIntervalMs: number;
  /** The longest wait after empty looks in a row (default: pollIntervalMs, no growth). */
  idlePollMaxMs?: number;
  backoff?: BackoffPolicy;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}): OutboxRelay {
  const log = logger.child({ component: 'outbox-relay' });
  let running = false;
  let loop: Promise<void> | undefined;
  // A nudge during a pass is remembered, so a commit racing the end of a pass is not left
  // waiting for the next poll.
  let nudged = false;
  let wake: (() => void) | undefined;

  /** Waits `ms`, or less when woken (by a nudge if `nudgeable`, always by stop). */
  const pause = (ms: number, nudgeable: boolean): Promise<void> => {
    if (!running || (nudgeable && nudged)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = () => {
        if (nudgeable || !running) done();
      };
    });
  };

  const publish = async (entries: readonly OutboxEntry[]): Promise<void> => {
    const records: OutboundRecord[] = [];
    const invalid: OutboxEntry[] = [];
    for (const entry of entries) {
      const record = outboxRecord(entry, topics);
      if (record === undefined) invalid.push(entry);
      else records.push(record);
    }
    if (records.length > 0) await bus.publish(records);
    // An invalid row can never be produced: keeping it would only block the rows behind it.
    // It is logged in full for an operator and deleted with the published ones.
    for (const entry of invalid)
      log.error({ event: 'outbox.invalid', entry }, 'outbox row cannot be produced (unknown type or invalid payload); dropped');
    const ackedAt = now();
    for (const entry of entries)
      if (!invalid.includes(entry)) metrics.outboxRelayLag.observe(Math.max(0, ackedAt - entry.createdAt) / 1000);
    metrics.outboxRelayed.inc({ outcome: 'published' }, records.length);
    if (invalid.length > 0) metrics.outboxRelayed.inc({ outcome: 'invalid' }, invalid.length);
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    let emptyLooks = 0;
    while (running) {
      if (nudged) emptyLooks = 0;
      nudged = false;
      let relayed: number;
      try {
        // A look first, a claim only when there is something: an idle pass is one plain
        // read, not a transaction with a locking read (every instance polls every second).
        const { pending, oldestCreatedAt } = await outbox.backlog();
        metrics.outboxOldestPending.set(oldestCreatedAt === undefined ? 0 : Math.max(0, now() - oldestCreatedAt) / 1000);
        relayed = pending === 0 ? 0 : await outbox.relay(batchSize, publish);
        if (failures > 0) log.info({ event: 'outbox.recovered', failures }, 'outbox relay recovered');
        failures = 0;
      } catch (error) {
        failures++;
        metrics.outboxRelayFailures.inc();
        const delayMs = backoffDelay(failures, backoff);
        log.warn(
          { event: 'outbox.relay_failed', err: error instanceof Error ? error.message : String(error), failures, delayMs },
          'outbox relay pass failed; backing off',
        );
        await pause(delayMs, false);
        continue;
      }
      if (relayed > 0) log.debug({ event: 'outbox.relayed', relayed }, 'outbox rows relayed');
      emptyLooks = relayed === 0 ? emptyLooks + 1 : 0;
      if (relayed < batchSize) await pause(idlePollDelayMs(emptyLooks, pollIntervalMs, idlePollMaxMs), true);
    }
  };

  return {
    async start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      // The pass in flight finishes (its produce is bounded by the bus's retries), so rows
      // it published are deleted rather than produced again by the next relay.
      await loop;
      loop = undefined;
    },
    nudge() {
      nudged = true;
      wake?.();
    },
  };
}

/**
 * The wait after a pass: `pollIntervalMs` after a pass that found rows (`emptyLooks` 0) or
 * the first empty look, then doubled per further empty look in a row, at most `maxMs`.
 */
export function idlePollDelayMs(emptyLooks: number, pollIntervalMs: number, maxMs: number): number {
  const doublings = Math.min(Math.max(0, emptyLooks - 1), 30);
  return Math.max(pollIntervalMs, Math.min(maxMs, pollIntervalMs * 2 ** doublings));
}
