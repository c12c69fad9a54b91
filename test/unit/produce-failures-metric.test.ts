import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus';
import { createMetrics } from '../../src/observability/metrics';
import { makeRecord } from '../../src/protocol/envelope';
import { silentLogger } from '../support/infra';

/**
 * chat_produce_failures_total counts records a publish could not write, by code, like
 * chat_records_produced_total counts the written ones: the alert KeyedChatProduceErrors
 * divides one by the sum. (The Kafka paths that fail a produce are the fault tests'; here
 * a bus whose producer never connected refuses at once, which is enough to count.)
 */
describe('produce failures as a metric', () => {
  it('counts every record of a refused publish under its error code', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const bus = createKafkaBus({
      instanceId: 'unit',
      brokers: ['127.0.0.1:9'],
      topics: { login: 'l', chat: 'c', inboxPrefix: 'i', ownerGroup: 'g', broadcast: 'b', partitions: 1 },
      logger: silentLogger(),
      metrics,
    });
    const records = ['user-1', 'user-2', 'user-3'].map((u) => ({
      topic: 'b',
      key: u,
      record: makeRecord('token.revoked', u, { jti: `jti-${u}` }),
    }));
    await expect(bus.publish(records)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // A record that fails its schema is refused before Kafka, and counted as such.
    await expect(
      bus.publish([{ topic: 'b', key: 'user-4', record: makeRecord('token.revoked', 'user-4', { jti: '' }) }]),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^chat_produce_failures_total\{code="UNAVAILABLE"\} 3$/m);
    expect(text).toMatch(/^chat_produce_failures_total\{code="VALIDATION"\} 1$/m);
    expect(text).not.toMatch(/^chat_records_produced_total\{/m);
  });
});
