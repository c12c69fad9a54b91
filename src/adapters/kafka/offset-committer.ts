import type { Logger } from '../../observability/logger';

/** Explicit offsets (the next offset to read) for kafkajs's commit. */
export interface CommitOffsets {
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}
export type CommitFn = (offsets: CommitOffsets) => Promise<void>;

export interface OffsetCommitterOptions {
  /**
   * How long a handled offset may wait to be committed. Default 1000 ms. 0 commits at the
   * end of every batch, inside the fetch loop (the behaviour before commits were periodic).
   * A crash (not a graceful stop or a rebalance, which always commit) redoes at most this
   * much of each partition, with the same ids.
   */
  readonly intervalMs?: number;
  /** Already scoped by the caller. */
  readonly logger: Logger;
}

export interface OffsetCommitter {
  /**
   * Where commits go: a batch's commitOffsetsIfNecessary, which with explicit offsets is
   * kafkajs's consumerGroup.commitOffsets. Not consumer.commitOffsets: kafkajs drops that
   * silently once the consumer is stopping, which is exactly when a commit matters. Every
   * batch sets it; it stays valid across rebalances (the group object is the same).
   */
  use(commit: CommitFn): void;
  /**
   * The output of every record of topic[partition] before `nextOffset` is written, so
   * `nextOffset` may be committed. Committed within intervalMs, off the fetch path.
   */
  handled(topic: string, partition: number, nextOffset: string): void;
  /** True when a batch must flush before it returns: intervalMs 0, or closing. */
  flushAtBatchEnd(): boolean;
  /**
   * Commits every handled offset not committed yet, in one OffsetCommit. Commits run one
   * at a time, each taking what is handled when it starts, so a later commit never goes
   * backwards. Rejects if the commit failed; its offsets stay, for the next flush.
   *
   * `overtake`: send it now, beside a commit already in flight rather than after it. For
   * the commit at a rebalance, which must reach the coordinator before this member's
   * JoinGroup (kafkajs sends that right after a FindCoordinator round trip): queued
   * behind a slow commit it loses that race. Still never backwards: both commits go to
   * the coordinator over the one connection kafkajs keeps to it, which the broker serves
   * in order, and this one carries offsets at least as high.
   */
  flush(options?: { overtake?: boolean }): Promise<void>;
  /** Drops uncommitted offsets of partitions `keep` rejects: revoked, so their new owner commits them. */
  retain(keep: (topic: string, partition: number) => boolean): void;
  /**
   * Handled offsets not committed yet (the next offset to read, per partition). After a
   * rejoin kafkajs reads every partition from its last commit; the bus seeks the kept
   * ones here instead, so a commit that lost its race with the rejoin is only late, not
   * a reason to handle the same records again.
   */
  pending(): readonly { topic: string; partition: number; offset: string }[];
  /** No more timed commits: from now on every batch flushes before it returns (the consumer is stopping). */
  close(): void;
}

/**
 * Periodic offset commits for one consumer. The guarantee stays the caller's: it reports
 * an offset as handled only once the records' output is durably written, so nothing here
 * can commit past unwritten output. What changes is when: not at the end of every batch
 * (an OffsetCommit round trip, written 3× to __consumer_offsets, that kafkajs's fetch loop
 * for that broker waited for), but at most every intervalMs, from a timer that runs only
 * while something is uncommitted; and always, awaited, when a partition is revoked or the
 * consumer stops (see partition-consumer and kafka-bus).
 */
export function createOffsetCommitter({ intervalMs = 1_000, logger }: OffsetCommitterOptions): OffsetCommitter {
  const uncommitted = new Map<string, { topic: string; partition: number; offset: bigint }>();
  let commit: CommitFn | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  let lastCommit = 0;
  let chain: Promise<void> = Promise.resolve();

  const commitOnce = async (): Promise<void> => {
    if (uncommitted.size === 0 || commit === undefined) return;
    const taken = [...uncommitted.values()].map((e) => ({ ...e }));
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const { topic, partition, offset } of taken) {
      const list = byTopic.get(topic) ?? [];
      list.push({ partition, offset: offset.toString() });
      byTopic.set(topic, list);
    }
    lastCommit = Date.now();
    await commit({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
    // Only what this commit carried: an offset handled meanwhile waits for the next one.
    for (const e of taken) {
      const key = `${e.topic}:${e.partition}`;
      if (uncommitted.get(key)?.offset === e.offset) uncommitted.delete(key);
    }
  };

  const flush = ({ overtake = false }: { overtake?: boolean } = {}): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const run = overtake ? commitOnce() : chain.then(commitOnce);
    const settled = run.catch(() => undefined);
    chain = overtake ? Promise.all([chain, settled]).then(() => undefined) : settled;
    return run;
  };

  const schedule = (): void => {
    if (timer !== undefined || closing || intervalMs === 0) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        flush().catch((error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'offset commit failed; retried at the next one');
          schedule();
        });
      },
      Math.max(0, lastCommit + intervalMs - Date.now()),
    );
    // A pending commit does not keep the process alive: stop() flushes.
    timer.unref();
  };

  return {
    use(fn) {
      commit = fn;
    },
    handled(topic, partition, nextOffset) {
      const key = `${topic}:${partition}`;
      const offset = BigInt(nextOffset);
      const known = uncommitted.get(key);
      // Never backwards: after a rejoin kafkajs may fetch again from an older commit.
      if (known === undefined || offset > known.offset) uncommitted.set(key, { topic, partition, offset });
      schedule();
    },
    flushAtBatchEnd: () => closing || intervalMs === 0,
    flush,
    retain(keep) {
      for (const [key, e] of uncommitted) if (!keep(e.topic, e.partition)) uncommitted.delete(key);
    },
    pending: () => [...uncommitted.values()].map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() })),
    close() {
      closing = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
