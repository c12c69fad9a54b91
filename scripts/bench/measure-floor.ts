/**
 * The Kafka floor, in the benchmark's own run and on its cluster, with nothing of our code
 * in it: Kafka's Java tools (EndToEndLatency: one acks=all hop; ProducerPerformance at the
 * benchmark's record rates) and a minimal kafkajs hop at the benchmark's message rates.
 * Each on fresh topics (rf 3, min.insync.replicas 2), deleted afterwards, with the CPU
 * account of its run. A tool that fails is reported as an error, not as a failed bench.
 */
import { startCpuReading, standardGroups, type CpuAccount } from './cpu-account';
import {
  runConsumerPerformance,
  runEndToEndLatency,
  runProducerPerformance,
  type EndToEndLatencyResult,
  type ProducerPerformanceResult,
} from './kafka-java-tools';
import { runKafkajsHop, type KafkajsHopResult } from './kafkajs-hop';
import { waitMachineQuiet } from './node-process';
import { createScratchTopics } from './scratch-topics';
import { round } from './stats';

export type Measured<T> = (T & { readonly cpu: CpuAccount }) | { readonly error: string };

export interface LatencyFloor {
  readonly endToEnd: Measured<EndToEndLatencyResult>;
  readonly kafkajsHop: Measured<KafkajsHopResult>[];
}

export type ProducerFloor = Measured<
  ProducerPerformanceResult & {
    readonly brokersCpuMsPerRecord: number;
    /** What read the records meanwhile: nothing, or Kafka's ConsumerPerformance (with what it consumed). */
    readonly reader: 'none' | 'ConsumerPerformance';
    readonly consumed?: number;
  }
>;

interface FloorContext {
  readonly brokers: readonly string[];
  readonly infraDir: string;
}

async function measured<T>(infraDir: string, fn: () => Promise<T>): Promise<Measured<T>> {
  await waitMachineQuiet({ timeoutMs: 30_000 });
  const reading = await startCpuReading(standardGroups({ servers: () => [], infraDir }));
  try {
    const result = await fn();
    return { ...result, cpu: await reading.stop() };
  } catch (error) {
    await reading.stop();
    return { error: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
}

/** EndToEndLatency (one message at a time) and the kafkajs hop at each of `rates` msg/s. */
export async function measureLatencyFloor({
  brokers,
  infraDir,
  messages,
  bytes,
  rates,
  seconds,
}: FloorContext & { messages: number; bytes: number; rates: readonly number[]; seconds: number }): Promise<LatencyFloor> {
  const topics = createScratchTopics({ brokers });
  try {
    // Topic set-up inside each measurement: one that fails costs that row only.
    const endToEnd = await measured(infraDir, async () =>
      runEndToEndLatency({ infraDir, brokers, topic: await topics.create('e2e', 1), messages, bytes }),
    );
    const kafkajsHop: Measured<KafkajsHopResult>[] = [];
    for (const rate of rates) {
      kafkajsHop.push(
        await measured(infraDir, async () =>
          runKafkajsHop({ brokers, topic: await topics.create(`hop-${rate}`, 12), rate, seconds, bytes }),
        ),
      );
    }
    return { endToEnd, kafkajsHop };
  } finally {
    await topics.dispose();
  }
}

/**
 * Kafka's Java producer at each of `recordRates` (records/s, acks=all, idempotent), twice:
 * with nothing reading, then with Kafka's Java consumer reading the records as they come
 * (ConsumerPerformance, started a few seconds before so it has joined): what the brokers
 * charge for a record from Kafka's own clients, produced alone and produced and fetched,
 * to set beside what they charge for one of ours (every one of ours is fetched).
 */
export async function measureProducerFloor({
  brokers,
  infraDir,
  recordRates,
  seconds,
  recordBytes,
}: FloorContext & { recordRates: readonly number[]; seconds: number; recordBytes: number }): Promise<ProducerFloor[]> {
  const topics = createScratchTopics({ brokers });
  const perRecord = (r: ProducerPerformanceResult & { cpu: CpuAccount }): number =>
    round(((r.cpu.cores['brokers'] ?? 0) * r.cpu.wallS * 1000) / Math.max(1, r.records), 3);
  try {
    const out: ProducerFloor[] = [];
    for (const rate of recordRates) {
      const alone = await measured(infraDir, async () =>
        runProducerPerformance({ infraDir, brokers, topic: await topics.create(`produce-${rate}`, 12), rate, seconds, recordBytes }),
      );
      out.push('error' in alone ? alone : { ...alone, brokersCpuMsPerRecord: perRecord(alone), reader: 'none' });

      const topic = await topics.create(`produce-read-${rate}`, 12);
      const records = Math.max(1, Math.round(rate * seconds));
      // The reader's JVM start and group join happen before the measured window opens. Its
      // idle timeout counts from its start, so it outlasts the 5 s here plus measured()'s wait
      // for a quiet machine (up to 30 s) before the first record.
      const reader = runConsumerPerformance({ infraDir, brokers, topic, messages: records, idleTimeoutMs: 45_000 }).catch(
        (error: unknown) => ({ error: error instanceof Error ? error.message.split('\n')[0]! : String(error) }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const read = await measured(infraDir, () => runProducerPerformance({ infraDir, brokers, topic, rate, seconds, recordBytes }));
      const consumed = await reader;
      if ('error' in read) out.push(read);
      else if ('error' in consumed) out.push({ error: `ConsumerPerformance: ${consumed.error}` });
      else out.push({ ...read, brokersCpuMsPerRecord: perRecord(read), reader: 'ConsumerPerformance', consumed: consumed.consumed });
    }
    return out;
  } finally {
    await topics.dispose();
  }
}
