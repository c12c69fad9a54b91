import { AssignerProtocol, Kafka, logLevel, type Admin, type Consumer, type PartitionAssigner, type Producer } from 'kafkajs';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { KAFKA_BROKERS, randomName, requireKafka, waitFor } from './infra';

/**
 * A kafkajs assigner that gives `partitions` of every subscribed topic to the one member
 * `pick` chooses from the members' ids (kafkajs starts a member id with its clientId), and
 * nothing to the others: a test decides who owns what across a rebalance.
 */
export function allToOneMember(
  name: string,
  partitions: readonly number[],
  pick: (memberIds: readonly string[]) => string | undefined,
): PartitionAssigner {
  return () => ({
    name,
    version: 1,
    protocol: ({ topics }) => ({
      name,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    }),
    async assign({ members, topics }) {
      const taker = pick(members.map((m) => m.memberId));
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: memberId === taker ? Object.fromEntries(topics.map((t) => [t, [...partitions]])) : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

/** Subscribes from the beginning, retrying: a topic created a moment ago reaches the brokers one by one, and the one asked may not know it yet. */
export function subscribeWhenKnown(consumer: Consumer, topic: string): Promise<true> {
  return waitFor(`subscription to ${topic}`, () => consumer.subscribe({ topics: [topic], fromBeginning: true }).then(() => true as const), {
    timeoutMs: 15_000,
    intervalMs: 250,
  });
}

/** A new topic of `partitions` (replication 3) with a group id, an admin and an idempotent producer for it; `close()` disconnects them. */
export interface ScratchTopic {
  readonly topic: string;
  readonly groupId: string;
  /** A kafkajs client of the test cluster with this clientId (member ids start with it). */
  kafka(clientId: string): Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  close(): Promise<void>;
}

export async function scratchTopic(prefix: string, partitions: number): Promise<ScratchTopic> {
  await requireKafka();
  const topic = randomName(prefix);
  const groupId = randomName(`${prefix}-group`);
  const kafka = (clientId: string): Kafka => new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka(`${prefix}-admin`).admin();
  // Idempotent: a produce retried on a busy machine must not put a record in the log twice.
  const producer = kafka(`${prefix}-producer`).producer({ idempotent: true, maxInFlightRequests: 1 });
  const close = async (): Promise<void> => {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  };
  try {
    await admin.connect();
    await createTopicAdmin({ admin, replicationFactor: 3, requestTopics: [], requestPartitions: partitions }).ensureTopic(
      topic,
      partitions,
    );
    await producer.connect();
  } catch (error) {
    await close();
    throw error;
  }
  return { topic, groupId, kafka, admin, producer, close };
}
