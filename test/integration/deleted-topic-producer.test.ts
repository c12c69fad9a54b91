import { Kafka, logLevel } from 'kafkajs';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { applyKafkajsDeletedTopicFix } from '../../src/adapters/kafka/kafkajs-deleted-topic-fix';
import { KAFKA_BROKERS, randomName, requireKafka, waitFor } from '../support/infra';

/**
 * tulios/kafkajs#1622 against real Kafka: a producer that wrote to a topic that is then
 * deleted could not write to any new topic again (every metadata refresh asked for the
 * deleted one and failed). Inbox topics are deleted on purpose (an instance's own after a
 * graceful drain, and the inbox janitor's), so every other instance's producer meets this.
 * With the fix it drops the deleted topic from its targets and goes on.
 */
describe('a producer after a topic it wrote to was deleted', () => {
  beforeAll(requireKafka);

  it('still writes to other topics, and a write to the deleted one fails instead of hanging', async () => {
    expect(applyKafkajsDeletedTopicFix()).toBe(true);
    const kafka = new Kafka({
      clientId: randomName('deleted-topic'),
      brokers: KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const [doomed, next] = [randomName('doomed'), randomName('next')];
    await admin.connect();
    await producer.connect();
    try {
      // Created as the product creates topics: metadata lags creation, so it polls for leaders.
      const topics = createTopicAdmin({ admin, replicationFactor: 3, requestTopics: [], requestPartitions: 1 });
      for (const topic of [doomed, next]) await topics.ensureTopic(topic, 1);
      await producer.send({ topic: doomed, acks: -1, messages: [{ value: 'before' }] });
      await admin.deleteTopics({ topics: [doomed] });
      // Deletion is asynchronous: until the brokers' metadata drops the topic, nothing fails.
      await waitFor('the deletion to show in metadata', async () => !(await admin.listTopics()).includes(doomed), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      // A topic new to this producer makes it refresh its metadata, which used to fail.
      await expect(producer.send({ topic: next, acks: -1, messages: [{ value: 'after' }] })).resolves.toBeDefined();
      await expect(producer.send({ topic: doomed, acks: -1, messages: [{ value: 'lost' }] })).rejects.toThrow();
      await expect(producer.send({ topic: next, acks: -1, messages: [{ value: 'still' }] })).resolves.toBeDefined();
    } finally {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [next] }).catch(() => undefined);
      await admin.disconnect();
    }
  }, 60_000);
});
