import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { BenchConnection, ChatTarget, ConnectionEvents } from './chat-target';
import { mapLimit } from './chat-target';
import type { PerfRecorder } from './perf-recorder';
import { startCpuReading, type CpuAccount, type CpuGroups } from './cpu-account';
import { waitMachineQuiet } from './node-process';
import { round, summarize, type LatencySummary } from './stats';

export interface Workload {
  /** Connected clients, one user each, spread round robin over the nodes. */
  readonly clients: number;
  /** Members per room; every client is in exactly one room. */
  readonly roomSize: number;
  /** Bytes of text per message. */
  readonly textBytes: number;
}

export interface LoadResult {
  readonly target: string;
  readonly offeredRate: number;
  readonly durationS: number;
  readonly sent: number;
  readonly acked: number;
  readonly errors: Record<string, number>;
  /** Deliveries owed for messages sent in the measured window (after warm-up). */
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Messages sent per second in the measured window whose every delivery arrived. */
  readonly messagesPerSec: number;
  /** Deliveries (socket frames to other members) per second in the measured window. */
  readonly deliveriesPerSec: number;
  /** send → deliver, per delivery, ms. */
  readonly latency: LatencySummary;
  /** send → ack, ms. */
  readonly ackLatency: LatencySummary;
  /** Server processes' CPU over the run, in cores (2.0 = both cores of this machine). */
  readonly serverCores: number;
  /** The whole machine's busy CPU over the run, in cores: servers, Kafka, PostgreSQL, Redis and the load generator. */
  readonly machineCores: number;
  /** The load generator's own event-loop delay p99 (ms): high values mean it, not the server, was late. */
  readonly generatorLagP99Ms: number;
  /** Cores per process group over the run (servers, brokers, postgres, redis, generator), the machine, the rest. */
  readonly cpu: CpuAccount;
  /** Every delivery of the run, warm-up and drain included (what the CPU account paid for). */
  readonly deliveredAll: number;
  /** The servers' CPU-milliseconds per delivery, over the whole run. */
  readonly serverCpuMsPerDelivery: number;
  /** Records written to the target's Kafka topics during the run (ours only). */
  readonly kafkaRecords?: number;
  /** Fetch requests our consumers had answered during the run (instances' chat_kafka_fetches_total). */
  readonly kafkaFetches?: number;
  /** kafkaFetches / messages sent. */
  readonly fetchesPerMessage?: number;
  /** Fan-outs through the recipients' owners in the phase (ours: 0 in the steady state). */
  readonly fallbackFanOuts?: number;
  /** kafkaRecords / messages sent. */
  readonly recordsPerMessage?: number;
  /** The brokers' CPU-milliseconds per record written (ours only). */
  readonly brokersCpuMsPerRecord?: number;
  /**
   * The run's CPU-account window on CLOCK_MONOTONIC, in µs (from its first send to the end of
   * its drain): the clock of V8's CPU profiles, so `profile-summary.ts --window FROM:TO`
   * keeps only the samples of this run.
   */
  readonly monotonicWindowUs: readonly [number, number];
}

/** CLOCK_MONOTONIC in µs, as V8's CPU profiles time their samples (and process.hrtime reads it). */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

interface InFlight {
  readonly sentAt: number;
  readonly measured: boolean;
  remaining: number;
}

/** Connected clients of one target, reused by every load level. */
export interface LoadSession {
  readonly target: ChatTarget;
  readonly workload: Workload;
  run(plan: { rate: number; durationMs: number; warmupMs: number; drainMs: number }): Promise<LoadResult>;
  close(): void;
}

/**
 * Sets up users, rooms and connections for `workload` on `target`. Rooms are filled in
 * order (clients 0..K-1 in room 0, …), and client i connects to node i mod nodes, so a
 * room's members sit on different nodes and every delivery may cross the cluster.
 */
export async function openLoadSession(
  target: ChatTarget,
  workload: Workload,
  nodes: number,
  tag: string,
  { cpuGroups, recorder }: { cpuGroups: CpuGroups; recorder?: PerfRecorder },
): Promise<LoadSession> {
  const { clients, roomSize } = workload;
  const users = Array.from({ length: clients }, (_, i) => `${tag}-u${i}`);
  const roomMembers: string[][] = [];
  for (let i = 0; i < clients; i += roomSize) roomMembers.push(users.slice(i, i + roomSize));
  const roomIds = await target.prepare(users, roomMembers);
  const roomOf = (i: number): string => roomIds[Math.floor(i / roomSize)]!;
  const fanOut = (i: number): number => roomMembers[Math.floor(i / roomSize)]!.length - 1;

  let inFlight = new Map<string, InFlight>();
  let samples: number[] = [];
  let ackSamples: number[] = [];
  let acked = 0;
  let delivered = 0;
  let deliveredAll = 0;
  let duplicates = 0;
  let errors: Record<string, number> = {};
  // Any frame at all, of this run or an earlier one: a run starts once the target is quiet.
  let lastEventAt = performance.now();
  const events: ConnectionEvents = {
    onAck(id) {
      lastEventAt = performance.now();
      const m = inFlight.get(id);
      if (m === undefined) return;
      acked++;
      if (m.measured) ackSamples.push(performance.now() - m.sentAt);
    },
    onMessage(id) {
      lastEventAt = performance.now();
      const m = inFlight.get(id);
      if (m === undefined) return;
      if (m.remaining <= 0) {
        duplicates++;
        return;
      }
      m.remaining--;
      deliveredAll++;
      if (m.measured) {
        delivered++;
        samples.push(performance.now() - m.sentAt);
      }
    },
    onError(code) {
      errors[code] = (errors[code] ?? 0) + 1;
    },
  };
  const conns: BenchConnection[] = await mapLimit(users, 50, (u, i) => target.connect(u, [roomOf(i)], i % nodes, events));
  await target.settle?.((line) => void process.stdout.write(`${line}\n`));
  const text = 'x'.repeat(workload.textBytes);
  let runNo = 0;

  return {
    target,
    workload,
    close: () => conns.forEach((c) => c.close()),
    async run({ rate, durationMs, warmupMs, drainMs }) {
      // An overloaded earlier run leaves a backlog: let it drain (bounded) so it is not
      // measured as this run's latency.
      const quietDeadline = performance.now() + 90_000;
      while (performance.now() - lastEventAt < 2_000 && performance.now() < quietDeadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      await waitMachineQuiet({ timeoutMs: 60_000 });
      runNo++;
      inFlight = new Map();
      samples = [];
      ackSamples = [];
      acked = delivered = deliveredAll = duplicates = 0;
      errors = {};
      const lag = monitorEventLoopDelay({ resolution: 10 });
      // A broker that is down for a moment (other people's fault tests share the cluster)
      // costs this run its record count, not the run.
      const recordsBefore = await target.kafkaRecords?.().catch(() => undefined);
      const fetchesBefore = await target.kafkaFetches?.().catch(() => undefined);
      const fallbackBefore = await target.fallbackFanOuts?.().catch(() => undefined);
      const reading = await startCpuReading(cpuGroups);
      // The untimed warm-up run (runNo 1) is not recorded.
      const stopRecording = runNo > 1 ? await recorder?.start(`${target.name}-${rate}-run${runNo}`) : undefined;
      lag.enable();
      const windowStartUs = monotonicUs();
      const start = performance.now();
      let sent = 0;
      let expected = 0;
      // Open loop: messages go out on schedule whatever the server's pace, so a slow server
      // shows up as latency and loss, not as a politely lower offered rate.
      await new Promise<void>((resolve) => {
        const tick = (): void => {
          const elapsed = performance.now() - start;
          const due = Math.min(Math.floor((rate * Math.min(elapsed, durationMs)) / 1000), Math.floor((rate * durationMs) / 1000));
          while (sent < due) {
            const i = sent % clients;
            const id = `${tag}-r${runNo}-m${sent}`;
            const measured = elapsed >= warmupMs;
            inFlight.set(id, { sentAt: performance.now(), measured, remaining: fanOut(i) });
            if (measured) {
              expected += fanOut(i);
            }
            conns[i]!.send(roomOf(i), id, text);
            sent++;
          }
          if (elapsed >= durationMs) resolve();
          else setTimeout(tick, 2);
        };
        tick();
      });
      const sendEnd = performance.now();
      const drainDeadline = sendEnd + drainMs;
      while ((delivered < expected || acked < sent) && performance.now() < drainDeadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      lag.disable();
      const windowEndUs = monotonicUs();
      const cpu = await reading.stop();
      await stopRecording?.();
      const recordsAfter = await target.kafkaRecords?.().catch(() => undefined);
      const fetchesAfter = await target.kafkaFetches?.().catch(() => undefined);
      const fallbackAfter = await target.fallbackFanOuts?.().catch(() => undefined);
      const kafkaFetches =
        fetchesBefore === undefined || fetchesAfter === undefined || fetchesAfter === 0 ? undefined : fetchesAfter - fetchesBefore;
      const kafkaRecords = recordsBefore === undefined || recordsAfter === undefined ? undefined : recordsAfter - recordsBefore;
      const cpuMsOf = (group: string): number => (cpu.cores[group] ?? 0) * cpu.wallS * 1000;
      const measuredS = (durationMs - warmupMs) / 1000;
      let complete = 0;
      for (const m of inFlight.values()) if (m.measured && m.remaining === 0) complete++;
      return {
        target: target.name,
        offeredRate: rate,
        durationS: durationMs / 1000,
        sent,
        acked,
        errors,
        expectedDeliveries: expected,
        delivered,
        lost: expected - delivered,
        duplicates,
        messagesPerSec: round(complete / measuredS, 0),
        deliveriesPerSec: round(delivered / measuredS, 0),
        latency: summarize(samples),
        ackLatency: summarize(ackSamples),
        serverCores: round(cpu.cores['servers'] ?? NaN, 2),
        machineCores: cpu.machine,
        generatorLagP99Ms: round(lag.percentile(99) / 1e6, 1),
        cpu,
        deliveredAll,
        serverCpuMsPerDelivery: round(cpuMsOf('servers') / Math.max(1, deliveredAll), 3),
        monotonicWindowUs: [windowStartUs, windowEndUs],
        ...(kafkaFetches === undefined ? {} : { kafkaFetches, fetchesPerMessage: round(kafkaFetches / Math.max(1, sent), 2) }),
        ...(fallbackBefore === undefined || fallbackAfter === undefined ? {} : { fallbackFanOuts: fallbackAfter - fallbackBefore }),
        ...(kafkaRecords === undefined
          ? {}
          : {
              kafkaRecords,
              recordsPerMessage: round(kafkaRecords / Math.max(1, sent), 2),
              brokersCpuMsPerRecord: round(cpuMsOf('brokers') / Math.max(1, kafkaRecords), 3),
            }),
      };
    },
  };
}
