import type { Kafka, Producer } from 'kafkajs';
import { TimeoutError, UnavailableError } from '../../domain/errors';
import { assertNever } from '../../domain/assert-never';
import type { Logger } from '../../observability/logger';
import { createNaturalBatcher } from './natural-batcher';
import { toBusError } from './kafka-errors';
import { createKeyedPartitioner } from './keyed-partitioner';

/** One record as it goes on the wire: the envelope already serialised. */
export interface WireRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: string | Buffer | null;
  readonly headers: Record<string, string>;
}

export interface KafkaProducerOptions {
  readonly kafka: Kafka;
  /**
   * Longest wait for a publish to be acknowledged (acks=all) before it fails with a
   * retriable error; also the brokers' wait for in-sync replicas per produce request.
   * Required (the bus passes its default, 10 s).
   */
  readonly produceTimeoutMs: number;
  /** Already scoped by the caller (the bus's component). */
  readonly logger: Logger;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  /** False before connect, after stop, and while kafkajs reports the producer disconnected. */
  isConnected(): boolean;
  /**
   * Writes `records` with acks=all, batched with whatever else is being published
   * (one sendBatch per round trip). Resolves once every record is acknowledged by the
   * in-sync replicas. Rejects with a TimeoutError when the write was sent but not
   * acknowledged within produceTimeoutMs (it may still be written: retry with the same
   * ids), and with an UnavailableError when it was never sent or Kafka refuses writes.
   */
  publish(records: readonly WireRecord[]): Promise<void>;
  /** One record straight to the producer, outside the batcher (dead letters: rare, and never the batched topics). */
  sendOne(record: WireRecord): Promise<void>;
  /** Waits for what is queued or in flight, then disconnects. */
  stop(): Promise<void>;
}

/**
 * The idempotent producer (acks=all, maxInFlightRequests 1, murmur2 like the Java
 * client), behind the natural batcher: one sendBatch at a time for the whole instance,
 * each checked for partitions kafkajs silently skipped and sent again whole if so.
 */
export function createKafkaProducer({ kafka, produceTimeoutMs, logger }: KafkaProducerOptions): KafkaProducer {
  const log = logger;
  // Where the messages of the sendBatch in flight went, for sendWhole's check.
  let placing: Map<string, Set<number>> | undefined;
  // maxInFlightRequests 1 keeps per-partition order under retries, as idempotence requires in kafkajs.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2, like the Java client: domain/partitioner computes the same partition
    // (keyed-partitioner.ts). Where the messages of a sendBatch go is noted for sendWhole's check.
    createPartitioner: () => {
      const keyed = createKeyedPartitioner();
      return (args) => {
        const partition = keyed(args);
        placing?.get(args.topic)?.add(partition);
        return partition;
      };
    },
  });
  let connected = false;

  /**
   * One sendBatch, checked, and sent again whole until it succeeds or produceTimeoutMs has
   * passed. kafkajs retries a failed sendBatch only towards the brokers that have not
   * answered yet (its producer/sendMessages.js keeps their responses across attempts): when
   * a dead leader's partitions move to a broker that already answered, their messages are
   * never sent and sendBatch still resolves -- a silent loss, seen in
   * test/faults/broker-leader-loss as a send never acked (tulios/kafkajs PR #1798). So the
   * answer must name every partition the messages went to; if one is missing, the whole
   * batch goes again. Records already written are then written twice, with the same ids
   * (at-least-once, which every consumer here handles).
   */
  const sendWhole = async (
    topicMessages: { topic: string; messages: { key: string | null; value: string | Buffer | null; headers: Record<string, string> }[] }[],
  ): Promise<void> => {
    const deadline = Date.now() + produceTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        // Only one sendBatch runs at a time (the batcher), so `placing` is this one's
        // (dead-letter writes use the producer too, but never these topics).
        placing = new Map(topicMessages.map(({ topic }) => [topic, new Set<number>()]));
        const written = await producer.sendBatch({ acks: -1, timeout: produceTimeoutMs, topicMessages });
        const missing = [...placing].flatMap(([topic, partitions]) =>
          [...partitions].filter((p) => !written.some((w) => w.topicName === topic && w.partition === p)).map((p) => `${topic}[${p}]`),
        );
        if (missing.length > 0) {
          log.warn({ missing, attempt }, 'kafkajs reported a batch written but never sent to some partitions; sending it again');
          throw new UnavailableError(`produce answered without ${missing.join(', ')}`);
        }
        return;
      } catch (error) {
        const delayMs = Math.min(1_000, 100 * 2 ** (attempt - 1));
        if (!toBusError(error, 'produce failed').retriable || Date.now() + delayMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      } finally {
        placing = undefined;
      }
    }
  };

  // One sendBatch per round trip, whatever the number of concurrent publishers. No publish
  // waits longer than produceTimeoutMs: a queued one is withdrawn (never written), an
  // in-flight one may still be written (TIMEOUT: the caller retries with the same ids).
  const batcher = createNaturalBatcher<WireRecord>({
    deadline: {
      ms: produceTimeoutMs,
      error: (outcome, ms) => {
        switch (outcome) {
          case 'unconfirmed':
            return new TimeoutError(`produce not acknowledged within ${ms} ms (it may still be written)`);
          case 'withdrawn':
            return new UnavailableError(`produce not sent within ${ms} ms: Kafka is not acknowledging writes`);
          case 'stalled':
            return new UnavailableError(`produce refused: Kafka has not acknowledged a write for ${ms} ms`);
          default:
            return assertNever(outcome, 'deadline outcome');
        }
      },
    },
    send: async (items) => {
      const byTopic = new Map<string, WireRecord[]>();
      for (const w of items) {
        const list = byTopic.get(w.topic);
        if (list === undefined) byTopic.set(w.topic, [w]);
        else list.push(w);
      }
      await sendWhole(
        [...byTopic].map(([topic, messages]) => ({
          topic,
          messages: messages.map(({ key, value, headers }) => ({ key, value, headers })),
        })),
      );
    },
  });

  return {
    async connect() {
      await producer.connect();
      connected = true;
      producer.on(producer.events.DISCONNECT, () => (connected = false));
      producer.on(producer.events.CONNECT, () => (connected = true));
    },
    isConnected: () => connected,
    publish: (records) => batcher.submit(records),
    async sendOne({ topic, key, value, headers }) {
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    },
    async stop() {
      await batcher.drain();
      connected = false;
      await producer.disconnect().catch((err: unknown) => log.warn({ err }, 'producer disconnect failed'));
    },
  };
}
