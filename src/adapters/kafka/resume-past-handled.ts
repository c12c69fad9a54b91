import type { Consumer } from 'kafkajs';
import type { Logger } from '../../observability/logger';
import type { OffsetCommitter } from './offset-committer';

export interface ResumePastHandledOptions {
  /** Only its `seek` is used. */
  readonly consumer: Pick<Consumer, 'seek'>;
  /** Already narrowed to the partitions this member keeps (see OffsetCommitter.retain). */
  readonly committer: Pick<OffsetCommitter, 'pending'>;
  readonly logger: Logger;
}

/**
 * Call from kafkajs's GROUP_JOIN, which it emits after SyncGroup and before the first
 * fetch of the new generation. Returns how many partitions were sought; the caller then
 * commits them again, under the new generation.
 *
 * Why: the commit a member sends when a rebalance begins (REBALANCING) races its own
 * JoinGroup. When it loses -- a busy machine, a commit already in flight ahead of it --
 * the coordinator refuses it for the old generation, and kafkajs, which builds a new
 * offset manager at every join, reads each partition the member kept from its last
 * commit: the records handled since then would be handled again. That is still
 * at-least-once (same ids, dropped downstream), but it is redone work after an ordinary
 * scale-in, and it made "a graceful hand-over handles nothing twice" depend on a race.
 * Seeking the kept partitions to what was handled makes the lost commit merely late.
 *
 * Guarantee: only offsets whose output is written are ever pending (the committer's
 * contract), so seeking to them skips nothing unwritten.
 */
export function resumePastHandled({ consumer, committer, logger }: ResumePastHandledOptions): number {
  const pending = committer.pending();
  for (const { topic, partition, offset } of pending) consumer.seek({ topic, partition, offset });
  if (pending.length > 0)
    logger.info({ partitions: pending.map((p) => `${p.topic}:${p.partition}@${p.offset}`) }, 'resumed past handled, uncommitted offsets');
  return pending.length;
}
