import type { Consumer, Kafka } from 'kafkajs';
import { UnavailableError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { retryStartup } from './kafka-errors';
import type { OffsetCommitter } from './offset-committer';
import type { GroupConsumerSettings } from './owner-group-consumer';
import type { PartitionBatch } from './partition-consumer';
import { createRebalanceCommits } from './rebalance-commits';

export interface InboxConsumerOptions {
  kafka: Kafka;
  /** This instance's own group: it is the only member. */
  groupId: string;
  /** This instance's inbox topic (one partition). */
  inboxTopic: string;
  /** The cluster-wide topic (one partition), read by every instance's inbox group. */
  broadcastTopic: string;
  settings: GroupConsumerSettings;
  committer: OffsetCommitter;
  eachBatch: (batch: PartitionBatch) => Promise<void>;
  /** How long `start` waits for the first join before it fails. */
  joinTimeoutMs: number;
  metrics: Metrics;
  logger: Logger;
}

/**
 * This instance's reader of its inbox topic and of the broadcast topic.
 *
 * Guarantees:
 * - the inbox is read from the beginning of what this group has not committed, so a
 *   reply produced while the consumer was still joining is not skipped; the broadcast
 *   topic from its end (what was broadcast before this instance existed is not its own);
 * - `start` resolves once the group has joined (then `state()` is 'joined'), and fails
 *   after `joinTimeoutMs` instead of hanging the instance's start;
 * - offsets are committed only after a record is handled, and around rebalances and the
 *   stop as the owner's are (rebalance-commits.ts).
 */
export interface InboxConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** 'idle' before the first join; 'crashed' from a crash until kafkajs's restart joins again. */
  state(): 'idle' | 'joined' | 'crashed';
}

export function createInboxConsumer({
  kafka,
  groupId,
  inboxTopic,
  broadcastTopic,
  settings,
  committer,
  eachBatch,
  joinTimeoutMs,
  metrics,
  logger,
}: InboxConsumerOptions): InboxConsumer {
  const commits = createRebalanceCommits({ committer, logger });
  let consumer: Consumer | undefined;
  let state: 'idle' | 'joined' | 'crashed' = 'idle';

  return {
    async start() {
      const c = kafka.consumer({ groupId, ...settings, allowAutoTopicCreation: false });
      consumer = c;
      let joined!: () => void;
      const joinedPromise = new Promise<void>((resolve) => (joined = resolve));
      c.on(c.events.GROUP_JOIN, () => {
        commits.joined(c);
        state = 'joined';
        joined();
      });
      c.on(c.events.REBALANCING, () => commits.rebalancing());
      c.on(c.events.FETCH, () => metrics.kafkaFetches.inc({ source: 'inbox' }));
      c.on(c.events.CRASH, ({ payload }) => {
        state = 'crashed';
        commits.crashed();
        logger.warn({ err: payload.error?.message, restart: payload.restart }, 'inbox consumer crashed');
      });
      await c.connect();
      await retryStartup(() => c.subscribe({ topics: [inboxTopic], fromBeginning: true }));
      await retryStartup(() => c.subscribe({ topics: [broadcastTopic], fromBeginning: false }));
      await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        joinedPromise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UnavailableError(`inbox consumer did not join within ${joinTimeoutMs} ms`)), joinTimeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    },

    async stop() {
      if (consumer === undefined) return;
      await commits.leaving();
      await consumer.disconnect().catch((err: unknown) => logger.warn({ err }, 'inbox consumer disconnect failed'));
    },

    state: () => state,
  };
}
