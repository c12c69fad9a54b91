/**
 * A minimal kafkajs hop, none of our code: one idempotent producer (acks=all, one send in
 * flight, whatever fell due meanwhile goes in the next) and one consumer in its own group
 * (minBytes 1), on a fresh topic with the product's partitioning. Open loop: messages fall
 * due at `rate` per second whatever Kafka does; a sample is due time → consumed, in this
 * process (one clock).
 *
 * With `fanOut` k > 0 it is a two-hop path shaped like a chat message's: a relay consumer
 * (its own group) reads each message and produces k records for it to a second topic
 * (keyed by k "gateways") through a second idempotent producer, one send in flight, without
 * holding its fetch loop; the reader consumes that topic, and a sample is due time → one of the k records consumed.
 * 1 + k records per message, as ours write 3 for a room of 5 over 3 instances (the send, and
 * a record per other instance holding members). Everything runs in this process, with one
 * producer and one consumer per hop: the least CPU any deployment of that path can cost in
 * kafkajs, whereas ours spread it over 3 instances.
 *
 * Commits as ours do: the reader none (ours' inboxes commit nothing), the relay every
 * second (ours' owner consumers commit periodically, off the fetch path); kafkajs's default
 * would send an offset commit after every batch, a request per fetch.
 *
 * kafkajs here runs with the fix of its request queues' idle polling that ours load
 * (src/adapters/kafka/kafkajs-idle-fix.ts, the fix proposed upstream), unless `idleFix` is
 * false. Under load it changes little (hop-settings.ts: 0.93–0.99 of the CPU per message
 * as shipped); it is what an idle client costs that it fixes. It patches kafkajs for the
 * whole process, so a run without it must come first.
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer, type Message, type Producer } from 'kafkajs';
import { applyKafkajsIdleFix, kafkajsIdleFixApplied } from '../../src/adapters/kafka/kafkajs-idle-fix';
import { round, summarize, type LatencySummary } from './stats';

export interface KafkajsHopResult {
  readonly rate: number;
  readonly seconds: number;
  /** Records written per message after the first hop (0: a single hop). */
  readonly fanOut: number;
  readonly sent: number;
  /** Records the reader consumed (fanOut per message on a path). */
  readonly received: number;
  /** Whether kafkajs ran with the idle fix (see above). */
  readonly idleFix: boolean;
  readonly commits: 'periodic' | 'every-batch';
  readonly latency: LatencySummary;
  /**
   * This process's CPU (user + system, ms) from the end of the warm-up until the last record
   * was read: kafkajs's cost, as nothing else runs here then, with its JIT warmed up.
   */
  readonly cpuMs: number;
  /** Messages sent after the warm-up: what `cpuMs` was spent on. */
  readonly measuredMessages: number;
}

/** Retries `op` while a fresh topic's metadata spreads (UNKNOWN_TOPIC_OR_PARTITION past kafkajs's own retries). */
async function retried(op: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await op();
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export async function runKafkajsHop({
  brokers,
  topic,
  rate,
  seconds,
  fanOut = 0,
  warmupS = 1,
  keys = 60,
  bytes = 100,
  onWarm,
  onMeasured,
  idleFix = true,
  commits = 'periodic',
}: {
  brokers: readonly string[];
  /** The first hop's topic; a path also uses `<topic>-out`, which the caller creates too. */
  topic: string;
  rate: number;
  seconds: number;
  /** Records per message on a second hop. Default 0 (one hop). */
  fanOut?: number;
  warmupS?: number;
  keys?: number;
  bytes?: number;
  /** Called when the warm-up ends and the measured load begins. */
  onWarm?: () => void;
  /** Called when the last record was read (or the wait for it ended), before the clients disconnect. */
  onMeasured?: () => void;
  /** Load the idle fix of kafkajs's request queues first (see above). Default true. */
  idleFix?: boolean;
  /** 'periodic' as ours (see above), or kafkajs's default: 'every-batch'. Default 'periodic'. */
  commits?: 'periodic' | 'every-batch';
}): Promise<KafkajsHopResult> {
  if (idleFix && !applyKafkajsIdleFix()) throw new Error('kafkajs-hop: the kafkajs idle fix does not apply to this kafkajs version');
  if (!idleFix && kafkajsIdleFixApplied()) throw new Error('kafkajs-hop: without the idle fix asked, but this process has applied it');
  const kafka = new Kafka({ clientId: 'bench-kafkajs-hop', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumerOf = (groupId: string): Consumer =>
    kafka.consumer({ groupId, minBytes: 1, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const readTopic = fanOut > 0 ? `${topic}-out` : topic;
  const reader = consumerOf(`${readTopic}-reader`);
  const relay =
    fanOut > 0
      ? {
          consumer: consumerOf(`${topic}-relay`),
          producer: kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
        }
      : undefined;
  const clients: (Producer | Consumer)[] = [producer, reader, ...(relay === undefined ? [] : [relay.consumer, relay.producer])];
  const groups = [`${readTopic}-reader`, ...(relay === undefined ? [] : [`${topic}-relay`])];
  const samples: number[] = [];
  const measuredFrom = warmupS * 1000;
  const total = Math.round(rate * (seconds + warmupS));
  const expected = total * Math.max(1, fanOut);
  let received = 0;
  let started = 0;
  let sent = 0;
  let cpuAtMeasure: NodeJS.CpuUsage | undefined;
  let sentAtMeasure = 0;
  let cpuMs = 0;
  try {
    for (const c of clients) await c.connect();
    const joins = [reader, ...(relay === undefined ? [] : [relay.consumer])].map(
      (c) => new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve())),
    );
    await retried(() => reader.subscribe({ topics: [readTopic], fromBeginning: true }));
    const periodic = commits === 'periodic';
    await reader.run({
      autoCommit: !periodic,
      eachMessage: async ({ message }) => {
        if (message.headers?.['warm'] !== undefined) return;
        received++;
        const dueAt = Number(message.headers?.['due']?.toString() ?? 'NaN');
        if (dueAt - started >= measuredFrom) samples.push(performance.now() - dueAt);
      },
    });
    // A run fails as soon as one of its sends does.
    let failed: ((error: unknown) => void) | undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    if (relay !== undefined) {
      const out = createPump(relay.producer, readTopic, failed!);
      await retried(() => relay.consumer.subscribe({ topics: [topic], fromBeginning: true }));
      await relay.consumer.run({
        ...(periodic ? { autoCommitInterval: 1000 } : {}),
        // The output goes to the relay's pump and the batch returns at once: the fetch loop
        // does not wait for an acks=all produce (as ours do not). Offsets may then commit
        // before their output is written, which ours hold back; that costs no request, and
        // nothing crashes here.
        eachBatch: async ({ batch }) => {
          out.push(
            batch.messages
              .filter((m) => m.headers?.['warm'] === undefined)
              .flatMap((m) =>
                Array.from({ length: fanOut }, (_, g) => ({ key: `g${g}`, value: m.value, headers: { due: m.headers!['due']! } })),
              ),
          );
        },
      });
      await retried(() =>
        relay.producer.send({ topic: readTopic, acks: -1, messages: [{ key: 'warm-up', value: 'w', headers: { warm: '1' } }] }),
      );
    }
    await retried(() => producer.send({ topic, acks: -1, messages: [{ key: 'warm-up', value: 'w', headers: { warm: '1' } }] }));
    await Promise.all(joins);

    const padding = 'x'.repeat(bytes);
    const send = createPump(producer, topic, failed!);
    started = performance.now();
    const warmedUp = setTimeout(() => {
      cpuAtMeasure = process.cpuUsage();
      sentAtMeasure = sent;
      onWarm?.();
    }, measuredFrom);
    // Woken when the next message falls due, not polled.
    await Promise.race([
      failure,
      new Promise<void>((resolve) => {
        const tick = (): void => {
          const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
          const batch: Message[] = [];
          for (; sent < due; sent++)
            batch.push({ key: `k${sent % keys}`, value: padding, headers: { due: String(started + (sent * 1000) / rate) } });
          send.push(batch);
          if (sent < total) setTimeout(tick, Math.max(0, started + (sent * 1000) / rate - performance.now()));
          else resolve();
        };
        tick();
      }),
    ]);
    await Promise.race([failure, send.drained()]);
    const deadline = performance.now() + 10_000;
    while (received < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearTimeout(warmedUp);
    onMeasured?.();
    if (cpuAtMeasure !== undefined) {
      const used = process.cpuUsage(cpuAtMeasure);
      cpuMs = (used.user + used.system) / 1000;
    }
  } finally {
    for (const c of clients.reverse()) await c.disconnect();
    // Its groups go with it, as its topics do.
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
  }
  return {
    rate,
    seconds,
    fanOut,
    sent,
    received,
    idleFix,
    commits,
    latency: roundSummary(summarize(samples)),
    cpuMs: round(cpuMs),
    measuredMessages: sent - sentAtMeasure,
  };
}

/**
 * Sends to `topic` with one send in flight; what is pushed meanwhile goes in the next one
 * (as ours batch). A failed send goes to `onError`.
 */
function createPump(
  producer: Producer,
  topic: string,
  onError: (error: unknown) => void,
): { push(messages: readonly Message[]): void; drained(): Promise<void> } {
  let queue: Message[] = [];
  let inFlight: Promise<void> | undefined;
  const next = (): void => {
    if (inFlight !== undefined || queue.length === 0) return;
    const batch = queue;
    queue = [];
    inFlight = producer.send({ topic, acks: -1, messages: batch }).then(
      () => {
        inFlight = undefined;
        next();
      },
      (error: unknown) => {
        inFlight = undefined;
        onError(error);
      },
    );
  };
  return {
    push(messages) {
      queue.push(...messages);
      next();
    },
    async drained() {
      while (inFlight !== undefined) await inFlight;
    },
  };
}

const roundSummary = (s: LatencySummary): LatencySummary => ({
  count: s.count,
  p50: round(s.p50),
  p95: round(s.p95),
  p99: round(s.p99),
  max: round(s.max),
  mean: round(s.mean),
});
