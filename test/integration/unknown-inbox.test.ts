import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { createMetrics } from '../../src/observability/metrics';
import { makeRecord } from '../../src/protocol/envelope';
import { inboxTopicOf } from '../../src/protocol/topics';
import { KAFKA_BROKERS, randomName, randomTopics, requireKafka, silentLogger, waitFor } from '../support/infra';

/**
 * A record addressed to an inbox topic that does not exist (an instance gone, whose
 * sessions the Redis directory still lists: after a whole cluster stopped at once, say),
 * on the real cluster. Handed to kafkajs, such a topic made every metadata refresh of the
 * producer fail, so every send of the instance stalled until the produce timeout (seen in
 * the bench: 10 s without a single ack after a restart). The bus holds it apart until a
 * listing shows the inbox or it counts as gone (inbox-presence.ts), off the caller's path,
 * and drops it then; the publish answers for the records that can be written at once.
 */
describe('a record for an inbox that does not exist (real Kafka)', () => {
  let admin: Admin;
  beforeAll(async () => {
    await requireKafka();
    admin = new Kafka({ clientId: randomName('unknown-inbox'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
  });

  it('is dropped after the grace, without failing or holding up the publish it came in', async () => {
    const topics = randomTopics(1);
    await createTopicAdmin({ admin, replicationFactor: 3, requestTopics: [], requestPartitions: 1 }).ensureTopic(topics.broadcast, 1);
    const metrics = createMetrics({ defaultMetrics: false });
    const bus = createKafkaBus({ instanceId: randomName('sender'), brokers: KAFKA_BROKERS, topics, logger: silentLogger(), metrics });
    await bus.start();
    try {
      const record = (n: number) => ({
        topic: topics.broadcast,
        key: 'u-1',
        record: makeRecord('token.revoked', 'u-1', { jti: `j-${n}` }),
      });
      const nowhere = {
        topic: inboxTopicOf(topics, 'gone-long-ago'),
        key: 'u-2',
        record: makeRecord('token.revoked', 'u-2', { jti: 'j-x' }),
      };
      const metric = async (pattern: RegExp): Promise<boolean> => pattern.test(await metrics.registry.metrics());
      const gone = /^chat_inbox_gone_total\{type="token.revoked"\} 1$/m;
      // Answers for the record that can be written, while the other still waits apart.
      await bus.publish([nowhere, record(1)]);
      expect(await metric(gone)).toBe(false);
      await bus.publish([record(2)]);
      // Then, once listings have missed that inbox for the grace period, it is dropped.
      await waitFor('the held record to be dropped', () => metric(gone), { timeoutMs: 30_000, intervalMs: 200 });
      expect(await metric(/^chat_produce_failures_total\{/m)).toBe(false);
      expect(Number((await admin.fetchTopicOffsets(topics.broadcast))[0]!.high)).toBe(2);
    } finally {
      await bus.stop();
      await admin.deleteTopics({ topics: [topics.broadcast] }).catch(() => undefined);
    }
  }, 60_000);
});
