import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createMemoryBus } from '../../src/adapters/memory/memory-bus';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus';
import { createMetrics } from '../../src/observability/metrics';
import type { Bus } from '../../src/ports/bus';
import { KAFKA_BROKERS, deleteTopics, randomName, randomTopics, requireKafka, silentLogger, waitFor } from '../support/infra';
import { subscribeWhenKnown } from '../support/group-members';

export interface SeenRecord {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

/** What the bus contract suite needs from each adapter. */
export interface BusHarness {
  readonly topics: ReturnType<typeof randomTopics>;
  makeBus(instanceId: string): Bus;
  /** Writes bytes that bypass the bus's validation (poison records). */
  produceRaw(topic: string, key: string, value: string): Promise<void>;
  /** Waits for `count` records on `topic` and returns them. */
  collect(topic: string, count: number): Promise<SeenRecord[]>;
  close(): Promise<void>;
}

const backoff = { initialMs: 10, maxMs: 50, factor: 2 };

export function memoryHarness(): BusHarness {
  const broker = new MemoryBroker(4);
  const topics = randomTopics(4);
  return {
    topics,
    makeBus: (instanceId) =>
      createMemoryBus({ broker, instanceId, topics, logger: silentLogger(), metrics: createMetrics({ defaultMetrics: false }), backoff }),
    async produceRaw(topic, key, value) {
      broker.append(topic, { key, value: Buffer.from(value), headers: {} });
    },
    async collect(topic, count) {
      return waitFor(
        `${count} records on ${topic}`,
        () => {
          const out: SeenRecord[] = [];
          for (let p = 0; p < broker.partitionCount(topic); p++) {
            for (let o = 0; o < broker.endOffset(topic, p); o++) {
              const r = broker.read(topic, p, o)!;
              out.push({ key: r.key, value: r.value.toString(), headers: { ...r.headers } });
            }
          }
          return out.length >= count ? out : undefined;
        },
        { timeoutMs: 10_000 },
      );
    },
    async close() {},
  };
}

export async function kafkaHarness(): Promise<BusHarness> {
  await requireKafka();
  const topics = randomTopics(4);
  const prefix = topics.login.split('.')[0]!;
  const kafka = new Kafka({ clientId: 'contract', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const consumers: Consumer[] = [];
  return {
    topics,
    makeBus: (instanceId) =>
      createKafkaBus({
        instanceId,
        brokers: KAFKA_BROKERS,
        topics,
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 500,
        rebalanceTimeoutMs: 10_000,
        logger: silentLogger(),
        metrics: createMetrics({ defaultMetrics: false }),
        backoff,
      }),
    async produceRaw(topic, key, value) {
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    },
    async collect(topic, count) {
      const seen: SeenRecord[] = [];
      const consumer = kafka.consumer({ groupId: randomName('collect'), maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      await consumer.connect();
      await waitFor(`topic ${topic} to exist`, async () => (await admin.listTopics()).includes(topic), {
        timeoutMs: 15_000,
        intervalMs: 250,
      });
      await subscribeWhenKnown(consumer, topic);
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          seen.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers });
        },
      });
      await waitFor(`${count} records on ${topic}`, () => seen.length >= count, { timeoutMs: 30_000 });
      await consumer.disconnect();
      return seen;
    },
    async close() {
      for (const c of consumers) await c.disconnect().catch(() => undefined);
      await producer.disconnect();
      await admin.disconnect();
      await deleteTopics(prefix).catch(() => undefined);
    },
  };
}
