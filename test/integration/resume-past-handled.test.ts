import { AssignerProtocol, Kafka, logLevel, type Consumer, type PartitionAssigner } from 'kafkajs';
import { createOffsetCommitter } from '../../src/adapters/kafka/offset-committer';
import { resumePastHandled } from '../../src/adapters/kafka/resume-past-handled';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { KAFKA_BROKERS, randomName, requireKafka, silentLogger, waitFor } from '../support/infra';

/**
 * A member that keeps its partitions through a rebalance, after its commit lost the race
 * with the rejoin (here: every commit is refused, as the coordinator refuses one sent for
 * the old generation), reads them again from the last commit -- unless it seeks past what
 * it handled when it joins (resume-past-handled.ts). Real Kafka, real kafkajs: the
 * property depends on when kafkajs emits GROUP_JOIN and how it resolves offsets after it.
 * The same run without the seek is the control: it must see records handled twice.
 */

/** Gives every partition to the member whose clientId is `keeper`, so it keeps them across the rejoin. */
const keeperTakesAll: PartitionAssigner = () => ({
  name: 'keeper-takes-all',
  version: 1,
  protocol: ({ topics }) => ({
    name: 'keeper-takes-all',
    metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
  }),
  async assign({ members, topics }) {
    const keeper = members.map((m) => m.memberId).find((id) => id.startsWith('keeper-'));
    return members.map(({ memberId }) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: memberId === keeper ? Object.fromEntries(topics.map((t) => [t, [0, 1]])) : {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
});

describe('resuming past handled offsets after a rejoin (real Kafka)', () => {
  const consumers: Consumer[] = [];
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => undefined)));
  });

  /** Handles 20 records on a kept member, makes another member join, then 4 more records; returns how often each was handled. */
  const run = async ({
    seek,
  }: {
    seek: boolean;
  }): Promise<{ handled: Map<string, number>; sought: number; before: number; inLog: number }> => {
    await requireKafka();
    const topic = randomName('resume');
    const groupId = randomName('resume-group');
    const kafka = (clientId: string): Kafka => new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const admin = kafka('resume-admin').admin();
    await admin.connect();
    // Idempotent: a produce retried on a busy machine must not put a record in the log twice.
    const producer = kafka('resume-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await createTopicAdmin({ admin, replicationFactor: 3, requestTopics: [], requestPartitions: 2 }).ensureTopic(topic, 2);
      await producer.connect();
      const produce = (from: number, count: number) =>
        producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: count }, (_, i) => ({ partition: (from + i) % 2, value: String(from + i) })),
        });

      const handled = new Map<string, number>();
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger: silentLogger() });
      let joins = 0;
      let sought = 0;
      const keeper = kafka('keeper').consumer({
        groupId,
        partitionAssigners: [keeperTakesAll],
        heartbeatInterval: 500,
        sessionTimeout: 10_000,
      });
      consumers.push(keeper);
      keeper.on(keeper.events.GROUP_JOIN, () => {
        joins += 1;
        if (seek) sought += resumePastHandled({ consumer: keeper, committer, logger: silentLogger() });
      });
      await keeper.connect();
      // A topic created a moment ago reaches the brokers one by one: the one asked may not know it yet.
      const subscribe = (consumer: Consumer) =>
        waitFor(`subscription to ${topic}`, () => consumer.subscribe({ topics: [topic], fromBeginning: true }).then(() => true), {
          timeoutMs: 15_000,
          intervalMs: 250,
        });
      await subscribe(keeper);
      await keeper.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          // Every commit is refused: what the coordinator answers a commit that lost the race.
          committer.use(() => Promise.reject(new Error('refused: the group has moved to a new generation')));
          for (const m of batch.messages) {
            const key = `${batch.partition}@${m.offset}`;
            handled.set(key, (handled.get(key) ?? 0) + 1);
            resolveOffset(m.offset);
            committer.handled(topic, batch.partition, (BigInt(m.offset) + 1n).toString());
          }
          await heartbeat();
        },
      });
      await waitFor('the keeper to join', () => joins === 1);
      // What the log holds is counted, not assumed: on a busy machine a produce retried
      // after a lost answer has once put a partition's batch in the log twice.
      const inLogNow = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
      await produce(0, 20);
      const before = await inLogNow();
      await waitFor('the records before the rejoin handled', () => handled.size >= before);

      // Another member joins: the keeper rejoins (a new generation) and keeps both partitions.
      const joiner = kafka('joiner').consumer({
        groupId,
        partitionAssigners: [keeperTakesAll],
        heartbeatInterval: 500,
        sessionTimeout: 10_000,
      });
      consumers.push(joiner);
      await joiner.connect();
      await subscribe(joiner);
      await joiner.run({ eachMessage: async () => undefined });
      await waitFor('the keeper to rejoin', () => joins >= 2, { timeoutMs: 60_000 });

      // Records after the rejoin: once they are handled, whatever was read again was too.
      await produce(20, 4);
      const inLog = await inLogNow();
      await waitFor('every record in the log handled', () => handled.size >= inLog);
      return { handled, sought, before, inLog };
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  };

  it('with the seek at GROUP_JOIN: both kept partitions are sought, and no record is handled twice', async () => {
    const { handled, sought, inLog } = await run({ seek: true });
    expect(sought).toBe(2);
    expect(handled.size).toBe(inLog);
    expect([...handled].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);

  it('the control, without it: kafkajs reads the kept partitions again from the last commit (every record before the rejoin handled twice)', async () => {
    const { handled, before, inLog } = await run({ seek: false });
    expect(handled.size).toBe(inLog);
    expect([...handled].filter(([, n]) => n > 1)).toHaveLength(before);
  }, 120_000);
});
