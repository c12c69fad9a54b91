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

/**
 * A new topic of `partitions` (replication 3) with a group id, an admin and an idempotent
 * producer for it, and members of that group; `close()` disconnects them all.
 */
export interface ScratchTopic {
  readonly topic: string;
  readonly groupId: string;
  readonly admin: Admin;
  readonly producer: Producer;
  /**
   * A consumer of the group with this clientId (kafkajs starts its member id with it),
   * `assigner` its only partition assigner and a 10 s session: connected and subscribed,
   * not yet running.
   */
  member(clientId: string, options: { assigner: PartitionAssigner; heartbeatInterval: number }): Promise<Consumer>;
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
  const members: Consumer[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(members.map((c) => c.disconnect().catch(() => undefined)));
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
  const member: ScratchTopic['member'] = async (clientId, { assigner, heartbeatInterval }) => {
    const consumer = kafka(clientId).consumer({ groupId, partitionAssigners: [assigner], heartbeatInterval, sessionTimeout: 10_000 });
    members.push(consumer);
    await consumer.connect();
    await subscribeWhenKnown(consumer, topic);
    return consumer;
  };
  return { topic, groupId, admin, producer, member, close };
}
