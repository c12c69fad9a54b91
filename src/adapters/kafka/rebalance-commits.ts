import type { Consumer } from 'kafkajs';
import type { Logger } from '../../observability/logger';
import type { OffsetCommitter } from './offset-committer';
import { resumePastHandled } from './resume-past-handled';

/**
 * The commits one group member makes around rebalances, crashes and its leaving, so that
 * what it handled is not handled again: by itself on partitions it keeps, or by the next
 * owner of partitions it loses.
 *
 * - `rebalancing` (kafkajs's REBALANCING: it has waited for in-flight batches, which
 *   commit what they handled themselves): what earlier batches handled is committed before
 *   the member rejoins. The OffsetCommit goes out while kafkajs first looks the coordinator
 *   up again, so it reaches the coordinator ahead of the JoinGroup, while the group still
 *   accepts this generation's commits (PreparingRebalance); it overtakes a commit already
 *   in flight rather than queue behind it.
 * - `joined` (GROUP_JOIN, after the caller narrowed the committer to the partitions it
 *   keeps): should that commit have lost its race, kept partitions are sought past what
 *   was handled and committed again under the new generation (resume-past-handled.ts).
 *   Only partitions that moved are then handled again, by their next owner, with the same
 *   ids (at-least-once).
 * - `crashed`: what was handled is committed, best effort, before kafkajs restarts.
 * - `leaving` (a graceful stop, before the consumer disconnects): the committer is closed
 *   first, so a batch that ends from now on commits before it returns, and kafkajs waits
 *   for in-flight batches before it leaves. (consumer.commitOffsets would not do: kafkajs
 *   drops it silently once the consumer is stopping.)
 *
 * None of them throws: a failed commit is logged, and costs only redone work.
 */
export interface RebalanceCommits {
  rebalancing(): void;
  joined(consumer: Pick<Consumer, 'seek'>): void;
  crashed(): void;
  leaving(): Promise<void>;
}

export function createRebalanceCommits({ committer, logger }: { committer: OffsetCommitter; logger: Logger }): RebalanceCommits {
  const commitNow = (why: 'rebalance' | 'crash' | 'rejoin'): void =>
    void committer
      .flush({ overtake: why === 'rebalance' })
      .catch((err: unknown) => logger.warn({ why, err: err instanceof Error ? err.message : String(err) }, 'offset commit failed'));
  return {
    rebalancing: () => commitNow('rebalance'),
    joined(consumer) {
      if (resumePastHandled({ consumer, committer, logger }) > 0) commitNow('rejoin');
    },
    crashed: () => commitNow('crash'),
    async leaving() {
      committer.close();
      await committer
        .flush()
        .catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'offset commit at stop failed'));
    },
  };
}
