/**
 * A minimal kafkajs hop, none of our code: one idempotent producer (acks=all, one send in
 * flight, whatever fell due meanwhile goes in the next) and one consumer in its own group
 * (minBytes 1), on a fresh topic with the product's partitioning. Open loop: messages fall
 * due at `rate` per second whatever Kafka does; a sample is due time → consumed, in this
 * process (one clock).
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { round, summarize, type LatencySummary } from './stats';

export interface KafkajsHopResult {
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly received: number;
  readonly latency: LatencySummary;
}

export async function runKafkajsHop({
  brokers,
  topic,
  rate,
  seconds,
  warmupS = 1,
  keys = 60,
  bytes = 100,
}: {
  brokers: readonly string[];
  topic: string;
  rate: number;
  seconds: number;
  warmupS?: number;
  keys?: number;
  bytes?: number;
}): Promise<KafkajsHopResult> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs-hop', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, minBytes: 1, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const samples: number[] = [];
  const measuredFrom = warmupS * 1000;
  let received = 0;
  let started = 0;
  await producer.connect();
  await consumer.connect();
  // A fresh topic may not be known to every broker yet (its metadata spreads): retry.
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      break;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  // The producer's first send to a fresh topic can meet a broker that does not know it yet
  // (UNKNOWN_TOPIC_OR_PARTITION past kafkajs's own retries): one warm-up record, retried.
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'warm-up', value: 'w', headers: { warm: '1' } }] });
      break;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.headers?.['warm'] !== undefined) return;
      received++;
      const dueAt = Number(message.headers?.['due']?.toString() ?? 'NaN');
      if (dueAt - started >= measuredFrom) samples.push(performance.now() - dueAt);
    },
  });
  await joined;
  const padding = 'x'.repeat(bytes);
  const total = Math.round(rate * (seconds + warmupS));
  let sent = 0;
  try {
    started = performance.now();
    const queue: { key: string; value: string; headers: { due: string } }[] = [];
    let inFlight: Promise<unknown> | undefined;
    await new Promise<void>((resolve, reject) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
        while (sent < due) {
          const dueAt = started + (sent * 1000) / rate;
          queue.push({ key: `k${sent % keys}`, value: padding, headers: { due: String(dueAt) } });
          sent++;
        }
        if (inFlight === undefined && queue.length > 0) {
          inFlight = producer.send({ topic, acks: -1, messages: queue.splice(0) }).then(() => (inFlight = undefined), reject);
        }
        if (sent >= total && queue.length === 0) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await inFlight;
    const deadline = performance.now() + 10_000;
    while (received < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    // Its group goes with it, as its topic does.
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([`${topic}-reader`]).catch(() => undefined);
    await admin.disconnect();
  }
  return { rate, seconds, sent, received, latency: roundSummary(summarize(samples)) };
}

const roundSummary = (s: LatencySummary): LatencySummary => ({
  count: s.count,
  p50: round(s.p50),
  p95: round(s.p95),
  p99: round(s.p99),
  max: round(s.max),
  mean: round(s.mean),
});
