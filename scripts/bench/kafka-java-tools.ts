/**
 * Kafka's own measuring tools, from the jars infra.sh fetches (<infra>/kafka/libs), run
 * against the benchmark's cluster, with their output parsed into numbers. Nothing of ours
 * is in these figures: they are the floor any Kafka path stands on, on this machine.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Small heaps: the tools share 2 cores and the memory with everything else. */
const JVM_OPTS = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];

async function runJava({
  infraDir,
  mainClass,
  args,
  timeoutMs,
}: {
  infraDir: string;
  mainClass: string;
  args: string[];
  timeoutMs: number;
}): Promise<string> {
  const child = spawn('java', [...JVM_OPTS, '-cp', join(infraDir, 'kafka', 'libs', '*'), mainClass, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${mainClass} exited with ${code}:\n${out.split('\n').slice(-15).join('\n')}`);
  return out;
}

export interface EndToEndLatencyResult {
  readonly tool: 'EndToEndLatency';
  readonly messages: number;
  readonly bytes: number;
  readonly avgMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** `Avg latency: 117.4772 ms` and `Percentiles: 50th = 80, 99th = 552, 99.9th = 1923`. */
export function parseEndToEndLatency(out: string): { avgMs: number; p50: number; p99: number; p999: number } {
  const avg = /Avg latency: ([\d.]+) ms/.exec(out);
  const pct = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+), 99\.9th = ([\d.]+)/.exec(out);
  if (avg === null || pct === null) throw new Error(`EndToEndLatency: no figures in its output:\n${out.slice(-800)}`);
  return { avgMs: Number(avg[1]), p50: Number(pct[1]), p99: Number(pct[2]), p999: Number(pct[3]) };
}

/**
 * One acks=all hop, one message at a time: a producer sends, waits until the consumer
 * (in the same JVM) has it, then sends the next; p50/p99 of those round trips.
 */
export async function runEndToEndLatency({
  infraDir,
  brokers,
  topic,
  messages,
  bytes,
}: {
  infraDir: string;
  brokers: readonly string[];
  topic: string;
  messages: number;
  bytes: number;
}): Promise<EndToEndLatencyResult> {
  const out = await runJava({
    infraDir,
    mainClass: 'org.apache.kafka.tools.EndToEndLatency',
    args: [brokers.join(','), topic, String(messages), 'all', String(bytes)],
    timeoutMs: 60_000 + messages * 200,
  });
  return { tool: 'EndToEndLatency', messages, bytes, ...parseEndToEndLatency(out) };
}

export interface ProducerPerformanceResult {
  readonly tool: 'ProducerPerformance';
  readonly offeredRecordsPerSec: number;
  readonly records: number;
  readonly recordBytes: number;
  readonly recordsPerSec: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** The last line: `1000 records sent, 183.38 records/sec (0.02 MB/sec), 509.75 ms avg latency, 4946.00 ms max latency, 457 ms 50th, 858 ms 95th, 896 ms 99th, 4946 ms 99.9th.` */
export function parseProducerPerformance(out: string): {
  records: number;
  recordsPerSec: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
} {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
      out,
    );
  if (m === null) throw new Error(`ProducerPerformance: no summary line in its output:\n${out.slice(-800)}`);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    avgMs: Number(m[3]),
    maxMs: Number(m[4]),
    p50: Number(m[5]),
    p95: Number(m[6]),
    p99: Number(m[7]),
  };
}

/**
 * Kafka's Java producer at `rate` records/s (acks=all, idempotent), nothing reading:
 * send → acknowledged latency, and whether it keeps the rate.
 */
export async function runProducerPerformance({
  infraDir,
  brokers,
  topic,
  rate,
  seconds,
  recordBytes,
}: {
  infraDir: string;
  brokers: readonly string[];
  topic: string;
  rate: number;
  seconds: number;
  recordBytes: number;
}): Promise<ProducerPerformanceResult> {
  const records = Math.max(1, Math.round(rate * seconds));
  const out = await runJava({
    infraDir,
    mainClass: 'org.apache.kafka.tools.ProducerPerformance',
    args: [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordBytes),
      '--throughput',
      String(rate),
      '--producer-props',
      `bootstrap.servers=${brokers.join(',')}`,
      'acks=all',
      'enable.idempotence=true',
    ],
    timeoutMs: 120_000 + seconds * 4_000,
  });
  return { tool: 'ProducerPerformance', offeredRecordsPerSec: rate, recordBytes, ...parseProducerPerformance(out) };
}

/**
 * The values line after ConsumerPerformance's header (`start.time, end.time,
 * data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, …`): the records it consumed.
 */
export function parseConsumerPerformance(out: string): { consumed: number } {
  const lines = out.split('\n');
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  // A timeout prints a WARNING line between the header and the values.
  const values =
    header < 0
      ? undefined
      : lines
          .slice(header + 1)
          .find((l) => /^\d{4}-\d{2}-\d{2}/.test(l))
          ?.split(',')
          .map((v) => v.trim());
  const consumed = Number(values?.[4]);
  if (!Number.isFinite(consumed)) throw new Error(`ConsumerPerformance: no summary line in its output:\n${out.slice(-800)}`);
  return { consumed };
}

/**
 * Kafka's Java consumer (its own group, default fetch settings: fetch.min.bytes 1,
 * fetch.max.wait.ms 500) reading `topic` from the start until it has `messages` records or
 * none came for `idleTimeoutMs`: the reader beside ProducerPerformance, so the brokers' CPU
 * per record of Kafka's own clients covers a record produced *and* fetched, as ours are.
 */
export async function runConsumerPerformance({
  infraDir,
  brokers,
  topic,
  messages,
  idleTimeoutMs,
}: {
  infraDir: string;
  brokers: readonly string[];
  topic: string;
  messages: number;
  idleTimeoutMs: number;
}): Promise<{ consumed: number }> {
  const out = await runJava({
    infraDir,
    mainClass: 'org.apache.kafka.tools.ConsumerPerformance',
    args: ['--bootstrap-server', brokers.join(','), '--topic', topic, '--messages', String(messages), '--timeout', String(idleTimeoutMs)],
    timeoutMs: 120_000 + idleTimeoutMs,
  });
  return parseConsumerPerformance(out);
}
