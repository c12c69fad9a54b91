import type { IHeaders } from 'kafkajs';
import type { z } from 'zod';
import type { ChatError } from '../../domain/errors';
import type { BackoffPolicy } from '../../domain/backoff';
import type { Handled, InboundRecord } from '../../ports/bus';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { backOffUnwritten, recordTypeLabel, runPipeline, type RawRecord } from '../record-pipeline';
import { toBusError } from './kafka-errors';
import type { OffsetCommitter } from './offset-committer';
import { toRaw } from './raw-record';

/**
 * The part of kafkajs's EachBatchPayload a partition consumer uses (EachBatchPayload is
 * assignable to it), so that unit tests can hand it a fake batch.
 */
export interface PartitionBatch {
  readonly batch: {
    readonly topic: string;
    readonly partition: number;
    readonly highWatermark: string;
    readonly messages: readonly {
      readonly offset: string;
      readonly key: Buffer | null;
      readonly value: Buffer | null;
      readonly headers?: IHeaders;
    }[];
  };
  /** Throws once the group is rebalancing (kafkajs: REBALANCE_IN_PROGRESS and friends). */
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  resolveOffset(offset: string): void;
  commitOffsetsIfNecessary(offsets?: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
}

export interface PartitionConsumerOptions<R> {
  /** Metric and log label. */
  readonly source: 'owner' | 'inbox';
  readonly schema: z.ZodType<R>;
  readonly listener: (record: InboundRecord<R>) => Promise<Handled | void>;
  /** Whether records of `partition` may be handled now, besides the consumer running. Default: always (a consumer that is the group's only member). */
  readonly owns?: (partition: number) => boolean;
  /** What records of `partition` must wait for before any is handled (a state load). Default: nothing. */
  readonly preparation?: (partition: number) => Promise<void> | undefined;
  /** Commits what this consumer handled (one committer per kafkajs consumer). */
  readonly committer: OffsetCommitter;
  /** Writes a record that cannot be handled to its dead-letter topic; throws if it could not. */
  readonly deadLetter: (raw: RawRecord, error: ChatError, attempts: number) => Promise<void>;
  /** How often to heartbeat while waiting on a handler, its output or a preparation. Default 3 s. */
  readonly heartbeatIntervalMs?: number;
  /** How long one handler attempt may run with heartbeats (PipelineOptions.keepAlive). Default 300 s. */
  readonly maxHandlerMs?: number;
  /** Retry policy for retriable handler failures and unwritten output. Default: domain/backoff's. */
  readonly backoff?: BackoffPolicy;
  /** Records of one partition handled but whose output is still being written, at most; past it the partition waits for the oldest. Default 500. */
  readonly maxPending?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Handles one partition's batch (kafkajs eachBatch with eachBatchAutoResolve and
 * autoCommit off). Guarantees:
 *
 * - Records are handled one at a time, in offset order, while the consumer runs and the
 *   partition is owned (`owns`), and only once its `preparation` has settled.
 * - Pipelining: a record's handler returns as soon as its output is handed to the
 *   producer, and the partition goes on. Its offset is resolved only once that output
 *   (`Handled.published`) is written, oldest first, so the resolved, and so the committed,
 *   offset never passes unwritten output.
 * - Output that fails to be written stops the batch: that record's offset stays
 *   unresolved, so kafkajs fetches it again and it is handled again (with the ones after
 *   it, whose output may then appear twice with the same ids), after a back-off that grows
 *   with consecutive failures on the partition.
 * - Output still being written when the partition is revoked, the consumer stops or a
 *   rebalance begins is waited for (heartbeating while the partition is active; after a
 *   heartbeat threw, best effort), so its offset is committed and the next owner does
 *   not handle it again.
 * - What was handled is handed to the committer, which commits it within its interval,
 *   off the fetch path. The batch itself waits for a commit of everything handled before
 *   it returns when it ends abnormally -- a heartbeat threw (a rebalance began), the
 *   partition was revoked, the consumer is stopping -- so a graceful stop or a rebalance
 *   leaves nothing handled but uncommitted; kafkajs waits for in-flight batches before it
 *   rejoins or leaves the group. A crash redoes at most the last commit interval.
 */
export function createPartitionConsumer<R>({
  source,
  schema,
  listener,
  owns = () => true,
  preparation = () => undefined,
  committer,
  deadLetter,
  heartbeatIntervalMs = 3_000,
  maxHandlerMs = 300_000,
  backoff,
  maxPending = 500,
  metrics,
  logger,
}: PartitionConsumerOptions<R>): (payload: PartitionBatch) => Promise<void> {
  const log = logger;
  // Consecutive failed produces per topic-partition, for the back-off before handling again.
  const produceFailures = new Map<string, number>();

  /**
   * Waits until `done` settles (resolved or rejected: the caller looks at which),
   * heartbeating every heartbeat interval while the partition is active, so the group
   * does not evict this member meanwhile. Once the partition is no longer active, it
   * gives up (false) with `stopWhenInactive`, or else goes on waiting without
   * heartbeats: output being written when the consumer stops is waited for, so its
   * offset is committed and the next owner does not handle it again.
   */
  const awaitHeartbeating = async (
    done: Promise<unknown>,
    heartbeat: () => Promise<void>,
    active: () => boolean,
    { stopWhenInactive }: { stopWhenInactive: boolean },
  ): Promise<boolean> => {
    let settled = false;
    const over = done.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    while (!settled) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([over, new Promise<void>((resolve) => (timer = setTimeout(resolve, heartbeatIntervalMs)))]).finally(() =>
        clearTimeout(timer),
      );
      if (settled) break;
      if (!active()) {
        if (stopWhenInactive) return false;
        continue;
      }
      await heartbeat();
    }
    return true;
  };

  return async ({ batch, heartbeat, isRunning, resolveOffset, commitOffsetsIfNecessary }: PartitionBatch): Promise<void> => {
    const { topic, partition } = batch;
    const tp = `${topic}:${partition}`;
    const active = (): boolean => isRunning() && owns(partition);
    let handled: string | undefined;
    const pending: { offset: string; published: Promise<void> }[] = [];
    let produceFailure: ChatError | undefined;
    const settle = async (keep: number, beat: () => Promise<void> = heartbeat): Promise<void> => {
      while (produceFailure === undefined && pending.length > keep) {
        const head = pending[0]!;
        // Output may wait on the database (a send's write) as well as on Kafka: keep
        // heartbeating meanwhile, as during a handler (see PipelineOptions.keepAlive).
        await awaitHeartbeating(head.published, beat, active, { stopWhenInactive: false });
        try {
          await head.published;
        } catch (error) {
          produceFailure = toBusError(error, 'produce of handled output failed');
          return;
        }
        pending.shift();
        resolveOffset(head.offset);
        handled = head.offset;
      }
    };
    // Commit what was handled: within the committer's interval, or before this batch
    // returns when it gives up (a rebalance, a revoke, a stop: the next owner would handle
    // it again otherwise). Duplicates after a crash keep their ids.
    const commit = async (immediately: boolean): Promise<void> => {
      if (handled !== undefined) committer.handled(topic, partition, (BigInt(handled) + 1n).toString());
      handled = undefined;
      if (!immediately && !committer.flushAtBatchEnd()) return;
      try {
        await committer.flush();
      } catch (error) {
        // The records stay handled; whoever owns the partition next handles them again.
        log.warn({ topic, partition, err: error instanceof Error ? error.message : String(error) }, 'offset commit failed');
        throw error;
      }
    };
    const quietHeartbeat = (): Promise<void> =>
      heartbeat().catch((error: unknown) =>
        log.debug({ topic, partition, err: error instanceof Error ? error.message : String(error) }, 'heartbeat while settling failed'),
      );
    committer.use(commitOffsetsIfNecessary);
    let threw = false;
    let lastTaken: string | undefined;
    try {
      const waitFor = preparation(partition);
      if (waitFor !== undefined && !(await awaitHeartbeating(waitFor, heartbeat, active, { stopWhenInactive: true }))) return;
      for (const message of batch.messages) {
        if (!active() || produceFailure !== undefined) break;
        const raw = toRaw(topic, partition, message);
        const { outcome, published } = await runPipeline({
          raw,
          schema,
          listener,
          deadLetter,
          heartbeat,
          keepAlive: { intervalMs: heartbeatIntervalMs, maxMs: maxHandlerMs },
          isActive: active,
          logger: log,
          ...(backoff === undefined ? {} : { backoff }),
        });
        metrics.recordsConsumed.inc({ source, type: recordTypeLabel(raw.value), outcome });
        if (outcome === 'abandoned') break;
        // Observed by settle(); never an unhandled rejection in between.
        published.catch(() => undefined);
        pending.push({ offset: message.offset, published });
        if (pending.length > maxPending) await settle(maxPending / 2);
        lastTaken = message.offset;
        await heartbeat();
      }
      // Once per batch, not per record: a gauge set hashes its labels, and the lag is only
      // scraped every few seconds. Cheap: the fetch response carries the high watermark.
      if (lastTaken !== undefined) {
        metrics.consumerLag.set(
          { source, topic, partition: String(partition) },
          Number(BigInt(batch.highWatermark) - BigInt(lastTaken) - 1n),
        );
      }
      await settle(0);
      if (produceFailure === undefined) {
        produceFailures.delete(tp);
      } else {
        // The first record whose output was not written keeps its offset unresolved, so
        // kafkajs fetches it again and it is handled again (so are the ones after it:
        // their output may then appear twice, with the same ids).
        const failures = (produceFailures.get(tp) ?? 0) + 1;
        produceFailures.set(tp, failures);
        await backOffUnwritten({
          failures,
          error: produceFailure,
          backoff,
          logger: log,
          where: { topic, partition, offset: pending[0]?.offset },
        });
        await heartbeat();
      }
    } catch (error) {
      threw = true;
      throw error;
    } finally {
      // Also when a heartbeat threw (a rebalance began): what was written is committed
      // before kafkajs rejoins, or the next owner handles it again. Heartbeats here are
      // best effort: once the group rebalances, kafkajs throws at every one until the
      // member rejoins, and a throw here would skip the commit below, so output written
      // after the rebalance began (slower than a heartbeat interval) would be handled
      // again by the partition's next owner.
      await settle(0, quietHeartbeat);
      await commit(threw || !active());
    }
  };
}
