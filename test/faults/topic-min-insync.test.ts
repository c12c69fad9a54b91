import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { KAFKA_BROKERS, randomName, requireKafka, waitFor } from '../support/infra';
import { kafkaConfigCommand, restoreBrokers, startBrokers, stopBroker } from '../support/brokers';

/**
 * The topic-level `min.insync.replicas` that the product sets when it creates a topic
 * (topic-admin.ts: min(2, replication factor)) is what refuses an acks=all write once too
 * few replicas are in sync — not the broker default that infra.sh also sets to 2, which
 * would hide a product that forgot it.
 *
 * So the test lowers the cluster-wide broker default to 1 (a dynamic config, deleted
 * afterwards), has the product create a topic, creates a control topic on the same two
 * replicas with no topic-level setting, stops one of those replicas and writes to both:
 * the product's topic refuses (NOT_ENOUGH_REPLICAS), the control topic accepts.
 *
 * Why a replication factor of 2 and one broker down, rather than RF 3 and two down: on the
 * test cluster every node is also a KRaft controller, so with two of three down there is no
 * quorum, the controller cannot shrink the ISR, and an acks=all write just times out
 * whatever min.insync.replicas says. With one of three down the quorum holds, a controlled
 * shutdown takes the broker out of the ISR at once, and the setting decides.
 */
describe('topic-level min.insync.replicas', () => {
  let admin: Admin;
  let producer: Producer;
  const kafka = new Kafka({ clientId: randomName('min-isr'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    await requireKafka();
    admin = kafka.admin();
    await admin.connect();
    // No retries: NOT_ENOUGH_REPLICAS is retriable, and the test wants to see it.
    producer = kafka.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await restoreBrokers();
    // Back to infra.sh's static broker default.
    await kafkaConfigCommand(['--entity-type', 'brokers', '--entity-default', '--alter', '--delete-config', 'min.insync.replicas']).catch(
      (error: unknown) => console.error(`could not delete the dynamic broker default: ${String(error)}`),
    );
  }, 180_000);

  // Metadata lags creation on some brokers (KRaft propagation): asked until one answers, bounded.
  const partitionZero = (topic: string) =>
    waitFor(
      `${topic} has a leader`,
      async () => {
        const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => ({ topics: [] }))).topics;
        const p = meta?.partitions.find((x) => x.partitionId === 0);
        return p !== undefined && p.leader >= 0 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  it("refuses acks=all writes below the product topic's own setting while a broker default of 1 accepts them", async () => {
    await kafkaConfigCommand(['--entity-type', 'brokers', '--entity-default', '--alter', '--add-config', 'min.insync.replicas=1']);

    const productTopic = randomName('min-isr-product');
    const controlTopic = randomName('min-isr-control');
    await createTopicAdmin({ admin, replicationFactor: 2, requestTopics: [], requestPartitions: 1 }).ensureTopic(productTopic, 1);
    const { replicas, leader } = await partitionZero(productTopic);
    expect(replicas).toHaveLength(2);
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic: controlTopic, replicaAssignment: [{ partition: 0, replicas: [leader, ...replicas.filter((r) => r !== leader)] }] }],
    });
    await partitionZero(controlTopic);

    // The product's topic carries its own setting; the control topic inherits the default of 1.
    // Asked until a broker that knows both topics answers (metadata propagation), bounded.
    const described = await waitFor(
      "the topics' configs",
      () =>
        admin
          .describeConfigs({
            includeSynonyms: false,
            resources: [productTopic, controlTopic].map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['min.insync.replicas'] })),
          })
          .catch(() => undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const minIsr = new Map(described.resources.map((r) => [r.resourceName, r.configEntries[0]?.configValue]));
    expect(minIsr.get(productTopic)).toBe('2');
    expect(minIsr.get(controlTopic)).toBe('1');

    // Both accept writes while both replicas are in sync. (Bounded retry: a leader may not
    // host a partition created a moment ago yet -- KRaft metadata reaches brokers one by
    // one -- and a write it refused that way was not written.)
    for (const topic of [productTopic, controlTopic])
      await waitFor(
        `a first write to ${topic}`,
        () => producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'before' }] }).then(() => true),
        { timeoutMs: 30_000, intervalMs: 250 },
      );

    const follower = replicas.find((r) => r !== leader)!;
    try {
      // SIGTERM: a controlled shutdown, so the controller takes it out of the ISRs at once.
      await stopBroker(follower, 'term');
      await waitFor(
        `broker ${follower} out of both ISRs`,
        async () => {
          const { topics } = await admin.fetchTopicMetadata({ topics: [productTopic, controlTopic] });
          return topics.every((t) => t.partitions[0]!.isr.length === 1);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      const refused = await producer.send({ topic: productTopic, acks: -1, messages: [{ key: 'k', value: 'during' }] }).then(
        () => undefined,
        (error: unknown) => errorTypes(error),
      );
      expect(refused).toContain('NOT_ENOUGH_REPLICAS');
      await expect(producer.send({ topic: controlTopic, acks: -1, messages: [{ key: 'k', value: 'during' }] })).resolves.toBeDefined();
    } finally {
      await startBrokers(follower);
    }
  }, 240_000);
});

/** The kafkajs error `type`s along an error's cause chain (a retrier wraps the broker's error). */
function errorTypes(error: unknown): string[] {
  const types: string[] = [];
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { type, cause, originalError } = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof type === 'string') types.push(type);
    e = cause ?? originalError;
  }
  return types;
}
