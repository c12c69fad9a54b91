import { Kafka, logLevel } from 'kafkajs';
import { createKafkaProducer } from '../../src/adapters/kafka/kafka-producer';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { KAFKA_BROKERS, randomName, requireKafka, silentLogger } from '../support/infra';
import { createProduceResponseDropper, type ProduceResponseDropper } from '../support/produce-response-dropper';

/**
 * The idempotent producer (issue #17 item 4), on the real cluster: the broker writes a
 * batch but its answer is lost on the way back (a relay swallows the first Produce
 * response), so the client times the request out and sends the batch again. The product's
 * producer (idempotent, acks=all) leaves one copy in the log. The same fault with
 * idempotence off leaves an extra copy: the check that this test can fail.
 */
describe('idempotent producer under a lost produce response (real Kafka)', () => {
  let admin: ReturnType<Kafka['admin']>;
  const droppers: ProduceResponseDropper[] = [];

  beforeAll(async () => {
    await requireKafka();
    admin = new Kafka({ clientId: 'idem-admin', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    for (const d of droppers) await d.close();
  });

  /** A fresh one-partition topic, and a Kafka client whose first Produce response is swallowed. */
  const setup = async (): Promise<{ topic: string; kafka: Kafka; dropper: ProduceResponseDropper }> => {
    const topic = randomName('idem');
    // The product's own topic creation: it waits (bounded) until every broker knows the leader.
    await createTopicAdmin({ admin, replicationFactor: 3, requestTopics: [], requestPartitions: 1 }).ensureTopic(topic, 1);
    const dropper = createProduceResponseDropper({ passProduces: 1, dropProduces: 1 });
    droppers.push(dropper);
    // A short request timeout: the lost answer is noticed in 2 s rather than kafkajs's 30.
    const kafka = new Kafka({
      clientId: randomName('idem'),
      brokers: KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
      socketFactory: dropper.socketFactory,
      requestTimeout: 2_000,
      retry: { retries: 5, initialRetryTime: 100 },
    });
    return { topic, kafka, dropper };
  };
  const recordsIn = async (topic: string): Promise<number> => Number((await admin.fetchTopicOffsets(topic))[0]!.high);

  it("the product's producer writes the batch once, though it had to send it twice (2 records for 2 sends)", async () => {
    const { topic, kafka, dropper } = await setup();
    const producer = createKafkaProducer({ kafka, produceTimeoutMs: 30_000, logger: silentLogger() });
    await producer.connect();
    try {
      // The first write goes through; the second's answer is lost.
      await producer.publish([{ topic, key: 'alice', value: '{"n":1}', headers: {} }]);
      await producer.publish([{ topic, key: 'alice', value: '{"n":2}', headers: {} }]);
    } finally {
      await producer.stop();
    }
    expect(dropper.dropped()).toBe(1);
    expect(await recordsIn(topic)).toBe(2);
  }, 60_000);

  it('with idempotence off, the same lost answer leaves a second copy (the fault is real)', async () => {
    // The dropper swallows only an answer that says the batch was written (an error answer,
    // as a busy cluster gives, passes and the next Produce is picked instead). The fault is
    // still tried on fresh topics until it shows, bounded, and a failure prints the error
    // codes that were let through.
    const copies: number[] = [];
    const errors: number[][] = [];
    for (let attempt = 0; attempt < 5 && !copies.includes(3); attempt++) {
      const { topic, kafka, dropper } = await setup();
      const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: 'alice', value: '{"n":1}' }] });
        await producer.send({ topic, acks: -1, messages: [{ key: 'alice', value: '{"n":2}' }] });
      } finally {
        await producer.disconnect();
      }
      expect(dropper.dropped()).toBe(1);
      copies.push(await recordsIn(topic));
      errors.push(dropper.errorsLetThrough());
    }
    expect({ copies, errorsLetThrough: errors }).toEqual({ copies: expect.arrayContaining([3]), errorsLetThrough: errors });
  }, 90_000);
});
