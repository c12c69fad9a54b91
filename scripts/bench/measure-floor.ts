/**
 * The Kafka floor, in the benchmark's own run and on its cluster, with nothing of our code
 * in it: Kafka's Java tools (EndToEndLatency: one acks=all hop; ProducerPerformance at the
 * benchmark's record rates) and a minimal kafkajs hop at the benchmark's message rates.
 * Each on fresh topics (rf 3, min.insync.replicas 2), deleted afterwards, with the CPU
 * account of its run. A tool that fails is reported as an error, not as a failed bench.
 */
import { startCpuReading, standardGroups, type CpuAccount, type CpuReading } from './cpu-account';
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
import { errorLine } from './error-line';

export type Measured<T> = (T & { readonly cpu: CpuAccount }) | { readonly error: string };

export interface LatencyFloor {
  readonly endToEnd: Measured<EndToEndLatencyResult>;
  readonly kafkajsHop: Measured<KafkajsHopResult>[];
  /** The two-hop kafkajs path (kafkajs-hop.ts, `fanOut`) at each rate; absent in older results. */
  readonly kafkajsPath?: Measured<KafkajsHopResult>[];
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

/**
 * Seconds of load before the kafkajs runs' latency and CPU count: this process's kafkajs code
 * is cold at the first rate, where ours has run for minutes.
 */
const HOP_WARMUP_S = 3;

/**
 * A throwaway path run at the highest rate first, so kafkajs's code in this process is
 * compiled before anything of it is measured (ours have run for minutes by then), not
 * during the first rate's run.
 */
async function warmKafkajs(brokers: readonly string[], topics: ReturnType<typeof createScratchTopics>, rate: number): Promise<void> {
  const topic = await topics.createHop('jit-warm-up', 2);
  await runKafkajsHop({ brokers, topic, rate, seconds: JIT_WARMUP_S, fanOut: 2, warmupS: 0 });
}

const JIT_WARMUP_S = 5;

async function measured<T>(infraDir: string, fn: () => Promise<T>): Promise<Measured<T>> {
  await waitMachineQuiet({ timeoutMs: 30_000 });
  const reading = await startCpuReading(standardGroups({ servers: () => [], infraDir }));
  try {
    const result = await fn();
    return { ...result, cpu: await reading.stop() };
  } catch (error) {
    await reading.stop();
    return { error: errorLine(error) };
  }
}

/**
 * As `measured`, for a kafkajs run: the CPU account covers its measured window only (from
 * the end of its warm-up until its last record was read), not its set-up and tear-down,
 * which took 30 s of the 44 s window of a path run once and diluted its cores.
 */
async function measuredKafkajs(
  infraDir: string,
  run: (hooks: { onWarm: () => void; onMeasured: () => void }) => Promise<KafkajsHopResult>,
): Promise<Measured<KafkajsHopResult>> {
  await waitMachineQuiet({ timeoutMs: 30_000 });
  let reading: Promise<CpuReading> | undefined;
  let account: Promise<CpuAccount> | undefined;
  try {
    const result = await run({
      onWarm: () => {
        reading = startCpuReading(standardGroups({ servers: () => [], infraDir }));
      },
      onMeasured: () => {
        account = reading?.then((r) => r.stop());
      },
    });
    if (account === undefined) throw new Error('the kafkajs run ended before its measured window did');
    return { ...result, cpu: await account };
  } catch (error) {
    await account?.catch(() => undefined);
    return { error: errorLine(error) };
  }
}

/**
 * EndToEndLatency (one message at a time), and at each of `rates` msg/s the kafkajs hop and
 * the two-hop kafkajs path with `fanOut` records per message on its second hop.
 */
export async function measureLatencyFloor({
  brokers,
  infraDir,
  messages,
  bytes,
  rates,
  seconds,
  fanOut,
}: FloorContext & { messages: number; bytes: number; rates: readonly number[]; seconds: number; fanOut: number }): Promise<LatencyFloor> {
  const topics = createScratchTopics({ brokers });
  try {
    // Topic set-up inside each measurement: one that fails costs that row only.
    const endToEnd = await measured(infraDir, async () =>
      runEndToEndLatency({ infraDir, brokers, topic: await topics.create('e2e', 1), messages, bytes }),
    );
    const kafkajsHop: Measured<KafkajsHopResult>[] = [];
    const kafkajsPath: Measured<KafkajsHopResult>[] = [];
    await warmKafkajs(brokers, topics, Math.max(...rates));
    for (const rate of rates) {
      kafkajsHop.push(
        await measuredKafkajs(infraDir, async (hooks) =>
          runKafkajsHop({ brokers, topic: await topics.create(`hop-${rate}`, 12), rate, seconds, bytes, warmupS: HOP_WARMUP_S, ...hooks }),
        ),
      );
      kafkajsPath.push(
        await measuredKafkajs(infraDir, async (hooks) => {
          const topic = await topics.createHop(`path-${rate}`, fanOut);
          return runKafkajsHop({ brokers, topic, rate, seconds, bytes, fanOut, warmupS: HOP_WARMUP_S, ...hooks });
        }),
      );
    }
    return { endToEnd, kafkajsHop, kafkajsPath };
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
        (error: unknown) => ({ error: errorLine(error) }),
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

/**
 * Runs `during` (for about `seconds`) while a bare kafkajs path carries `recordsPerSec`
 * records: one record in and one out per message, as a login's request and reply, from the
 * end of the path's warm-up. What `during` achieves then is what the machine leaves it once
 * kafkajs and the brokers have moved that many records, with none of our code.
 */
export async function besideKafkajsPath<T>({
  brokers,
  recordsPerSec,
  seconds,
  during,
}: {
  brokers: readonly string[];
  recordsPerSec: number;
  seconds: number;
  during: () => Promise<T>;
}): Promise<T> {
  const topics = createScratchTopics({ brokers });
  try {
    const topic = await topics.createHop('beside', 1);
    let result: Promise<T> | undefined;
    await runKafkajsHop({
      brokers,
      topic,
      rate: Math.max(1, recordsPerSec / 2),
      // The path outlasts `during` by a little: it must not stop while `during` runs.
      seconds: seconds + 2,
      fanOut: 1,
      warmupS: HOP_WARMUP_S,
      onWarm: () => {
        result = during();
        // Awaited below; until then a failure must not count as unhandled.
        result.catch(() => undefined);
      },
    });
    if (result === undefined) throw new Error('the kafkajs path ended before its warm-up did');
    return await result;
  } finally {
    await topics.dispose();
  }
}
