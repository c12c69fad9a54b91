import type { BenchConnection, ChatTarget } from './chat-target';
import { ignoreEvents, mapLimit } from './chat-target';
import { rssBytes, waitMachineQuiet } from './node-process';
import { round } from './stats';

export interface IdleMemoryResult {
  readonly target: string;
  readonly connections: number;
  readonly rssBeforeMB: number;
  readonly rssAfterMB: number;
  /** (RSS after − RSS before) / connections, summed over the server processes. */
  readonly perConnectionKB: number;
  readonly connectPerSec: number;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The servers' summed RSS, the median of 5 readings 500 ms apart: GC makes single readings jump. */
async function sumRss(target: ChatTarget): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) await settle(500);
    readings.push((await Promise.all(target.pids().map(rssBytes))).reduce((a, b) => a + b, 0));
  }
  return readings.sort((a, b) => a - b)[2]!;
}

/**
 * Memory per idle connection: the servers' resident memory with `connections` idle
 * sockets open (spread over the nodes) minus their memory just before, after a warm-up
 * that runs the connection path once so its code and first buffers are not counted.
 */
export async function measureIdleMemory(
  target: ChatTarget,
  { connections, nodes, tag }: { connections: number; nodes: number; tag: string },
): Promise<IdleMemoryResult> {
  const warm = await mapLimit(
    Array.from({ length: 100 }, (_, i) => i),
    50,
    (i) => target.connect(`${tag}-warm${i}`, [], i % nodes, ignoreEvents),
  );
  warm.forEach((c) => c.close());
  await waitMachineQuiet();
  const before = await sumRss(target);
  const started = Date.now();
  const conns: BenchConnection[] = await mapLimit(
    Array.from({ length: connections }, (_, i) => i),
    100,
    (i) => target.connect(`${tag}-idle${i}`, [], i % nodes, ignoreEvents),
  );
  const connectS = (Date.now() - started) / 1000;
  await settle(5_000);
  const after = await sumRss(target);
  conns.forEach((c) => c.close());
  // Closing them is work too (a session.closed record each, for ours): wait it out.
  await waitMachineQuiet();
  return {
    target: target.name,
    connections,
    rssBeforeMB: round(before / 2 ** 20),
    rssAfterMB: round(after / 2 ** 20),
    perConnectionKB: round((after - before) / connections / 1024),
    connectPerSec: round(connections / connectS, 0),
  };
}
