import type { Admin } from 'kafkajs';
import { UnavailableError } from '../../domain/errors';
import { dltTopicOf } from '../../protocol/headers';

export interface TopicAdminOptions {
  /** Connected by the caller (the bus), which also disconnects it. */
  readonly admin: Admin;
  /** Replication factor of the topics created here. Default 3; min.insync.replicas is min(2, rf). */
  readonly replicationFactor?: number;
  /** How long a created topic may take to have a leader for every partition. Default 30 s. */
  readonly leaderWaitMs?: number;
  /** The keyed request topics, whose dead-letter topics have `requestPartitions` partitions. */
  readonly requestTopics: readonly string[];
  readonly requestPartitions: number;
}

export interface TopicAdmin {
  /**
   * Resolves once `topic` exists and every partition has a leader, creating it (with
   * `numPartitions`) if it is missing. Two instances may race to create it; the loser sees
   * it exist, which is fine. A topic once seen ready is not asked about again.
   */
  ensureTopic(topic: string, numPartitions: number): Promise<void>;
  /**
   * Ensures `<sourceTopic>.dlt` and returns its name. The request topics' dead-letter
   * topics keep their partition count (a replay goes back to the same partitions); any
   * other topic's has one partition.
   */
  ensureDeadLetterTopic(sourceTopic: string): Promise<string>;
}

/** Topic creation, for the request topics, the inbox and broadcast topics, and dead letters. */
export function createTopicAdmin({
  admin,
  replicationFactor = 3,
  leaderWaitMs = 30_000,
  requestTopics,
  requestPartitions,
}: TopicAdminOptions): TopicAdmin {
  // Topics known to exist with leaders: a dead-letter write does not ask the cluster again.
  const ensured = new Set<string>();
  const ensureTopic = async (topic: string, numPartitions: number): Promise<void> => {
    if (ensured.has(topic)) return;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            numPartitions,
            replicationFactor,
            configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }],
          },
        ],
      });
    }
    // Metadata lags creation on other brokers ("does not host this topic-partition"): poll, bounded.
    const deadline = Date.now() + leaderWaitMs;
    for (;;) {
      try {
        const {
          topics: [meta],
        } = await admin.fetchTopicMetadata({ topics: [topic] });
        if (meta !== undefined && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0)) {
          ensured.add(topic);
          return;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline)
        throw new UnavailableError(`topic ${topic} has no leader for every partition after ${Math.round(leaderWaitMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return {
    ensureTopic,
    async ensureDeadLetterTopic(sourceTopic) {
      const dlt = dltTopicOf(sourceTopic);
      await ensureTopic(dlt, requestTopics.includes(sourceTopic) ? requestPartitions : 1);
      return dlt;
    },
  };
}
