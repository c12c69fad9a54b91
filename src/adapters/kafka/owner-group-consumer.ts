import type { Consumer, Kafka, RetryOptions } from 'kafkajs';
import type { OwnerGroupListener } from '../../ports/bus';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { TopicsConfig } from '../../protocol/topics';
import { createCoPartitionAssigner } from './co-partition-assigner';
import type { OwnerLag } from './consumer-lag';
import { retryStartup } from './kafka-errors';
import type { OffsetCommitter } from './offset-committer';
import type { PartitionBatch } from './partition-consumer';
import type { PartitionMembership } from './partition-membership';
import { createRebalanceCommits } from './rebalance-commits';

/** The kafkajs consumer settings both of the bus's consumers share. */
export interface GroupConsumerSettings {
  readonly sessionTimeout: number;
  readonly heartbeatInterval: number;
  readonly rebalanceTimeout: number;
  readonly minBytes: number;
  readonly maxWaitTimeInMs: number;
  readonly retry: RetryOptions & { restartOnFailure: (e: Error) => Promise<boolean> };
}

export interface OwnerGroupConsumerOptions {
  kafka: Kafka;
  instanceId: string;
  topics: Pick<TopicsConfig, 'login' | 'chat' | 'ownerGroup' | 'partitions'>;
  settings: GroupConsumerSettings;
  /** Which partitions this member owns, and whether their users are loaded (partition-membership.ts). */
  membership: PartitionMembership;
  committer: OffsetCommitter;
  /** The handler of one partition's batch (partition-consumer.ts). */
  eachBatch: (batch: PartitionBatch) => Promise<void>;
  listener: OwnerGroupListener;
  lag: OwnerLag;
  metrics: Metrics;
  logger: Logger;
}

/**
 * This instance's member of the owner group over both request topics, with the
 * co-partitioning assignor (partition p of login and chat go to the same member).
 *
 * Guarantees:
 * - a partition's records are handled only once its users are loaded (`onAssigned` done),
 *   and never after it was revoked: the membership gates the handler;
 * - partitions are handled concurrently, one batch at a time per partition, in offset
 *   order within it;
 * - offsets are committed only after a record's output is written, and always when a
 *   rebalance starts and before the member leaves (rebalance-commits.ts): a graceful
 *   hand-over handles nothing twice; a crash redoes at most the commit interval.
 */
export interface OwnerGroupConsumer {
  start(): Promise<void>;
  /** Commits what was handled, leaves the group (the partitions move now), then revokes them locally. */
  stop(): Promise<void>;
  memberId(): string | undefined;
}

export function createOwnerGroupConsumer({
  kafka,
  instanceId,
  topics,
  settings,
  membership,
  committer,
  eachBatch,
  listener,
  lag,
  metrics,
  logger,
}: OwnerGroupConsumerOptions): OwnerGroupConsumer {
  const requestTopics = [topics.login, topics.chat];
  const commits = createRebalanceCommits({ committer, logger });
  let consumer: Consumer | undefined;
  let memberId: string | undefined;

  const onJoin = (c: Consumer, memberAssignment: Record<string, number[]>): void => {
    const { partitions, revoked, assigned } = membership.assign(Object.values(memberAssignment).flat());
    // A revoked partition's offsets are its new owner's to commit now.
    committer.retain((_topic, partition) => membership.owns(partition));
    commits.joined(c);
    metrics.ownerGroupJoins.inc();
    logger.info({ event: 'partitions.assigned', memberId, partitions, byTopic: memberAssignment, revoked, assigned }, 'owner group joined');
    // Records of revoked partitions stopped being handled when this member rejoined
    // (onJoin), so dropping their users' state now races with nothing.
    for (const p of revoked) for (const t of requestTopics) metrics.consumerLag.remove({ source: 'owner', topic: t, partition: String(p) });
    if (revoked.length > 0) void Promise.resolve(listener.onRevoked(revoked)).catch((err) => logger.error({ err }, 'onRevoked failed'));
    if (assigned.length > 0) {
      const ready = Promise.resolve(listener.onAssigned(assigned)).catch((err: unknown) => logger.error({ err }, 'onAssigned failed'));
      membership.prepare(assigned, ready);
    }
  };

  return {
    async start() {
      const c = kafka.consumer({
        groupId: topics.ownerGroup,
        partitionAssigners: [
          createCoPartitionAssigner({
            instanceId,
            onJoin: () => membership.join(),
            onMismatch: (counts) => logger.error({ counts }, 'request topics differ in partition count: co-partitioning is broken'),
          }),
        ],
        ...settings,
        allowAutoTopicCreation: false,
      });
      consumer = c;
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        memberId = payload.memberId;
        onJoin(c, payload.memberAssignment);
      });
      c.on(c.events.FETCH, () => metrics.kafkaFetches.inc({ source: 'owner' }));
      c.on(c.events.REBALANCING, () => {
        membership.rebalancing();
        commits.rebalancing();
      });
      c.on(c.events.CRASH, ({ payload }) => {
        membership.rebalancing();
        commits.crashed();
        logger.error({ err: payload.error?.message, restart: payload.restart }, 'owner consumer crashed');
      });
      membership.rebalancing();
      await c.connect();
      await retryStartup(() => c.subscribe({ topics: requestTopics, fromBeginning: true }));
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, topics.partitions * 2),
        eachBatch,
      });
      lag.start();
    },

    async stop() {
      lag.stop();
      if (consumer === undefined) return;
      await commits.leaving();
      await consumer.disconnect().catch((err: unknown) => logger.warn({ err }, 'owner consumer disconnect failed'));
      const revoked = membership.stop();
      if (revoked.length > 0) await listener.onRevoked(revoked);
    },

    memberId: () => memberId,
  };
}
