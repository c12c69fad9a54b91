/**
 * The floor table (markdown): Kafka's own tools, a bare kafkajs hop and the two-hop kafkajs
 * path on the benchmark's cluster; then each keyed-chat target's send→deliver p50 as a ratio
 * to hops × floor p50, and its fixed loads beside the kafkajs path (and the WebSocket floor,
 * scripts/bench/ws-relay-node.ts, when it ran) at the same rate.
 */
import type { KafkajsHopResult } from './kafkajs-hop';
import type { LatencyFloor, ProducerFloor } from './measure-floor';
import { ratio } from './stats';
import type { TargetResults } from './target-results';

/** What read a producer floor's records: nothing, or Kafka's Java consumer (and how many it got). */
export const readerLabel = (p: { reader?: string; consumed?: number; records: number }): string =>
  p.reader === 'ConsumerPerformance' ? `Java consumer reading (${p.consumed ?? '?'}/${p.records})` : 'nothing reading';

const fmt = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** kafkajs's CPU per message of a hop or path run, after its warm-up (ms). */
const cpuPerMessage = (h: KafkajsHopResult): number => h.cpuMs / Math.max(1, h.measuredMessages);

export function floorTable({
  latency,
  producer,
  results,
  deliveriesPerMessage,
  p99TargetMs,
}: {
  latency: LatencyFloor | undefined;
  producer: readonly ProducerFloor[];
  results: readonly TargetResults[];
  /** Frames a message makes (room size − 1): the path's CPU per message is split over them. */
  deliveriesPerMessage: number;
  /** The sustained-rate search's limit: the path's highest load within it is that target's floor. */
  p99TargetMs: number;
}): string {
  const rows = ['| floor (none of our code) | p50 (ms) | p99 (ms) | notes |', '| --- | --- | --- | --- |'];
  const e2e = latency?.endToEnd;
  const e2eP50 = e2e !== undefined && !('error' in e2e) ? e2e.p50 : undefined;
  if (e2e !== undefined) {
    rows.push(
      'error' in e2e
        ? `| Java EndToEndLatency, 1 acks=all hop | – | – | failed: ${e2e.error} |`
        : `| Java EndToEndLatency, 1 acks=all hop, one at a time | ${fmt(e2e.p50)} | ${fmt(e2e.p99)} | ${e2e.messages} × ${e2e.bytes} B; brokers ${fmt(e2e.cpu.cores['brokers'], 2)} cores |`,
    );
  }
  for (const hop of latency?.kafkajsHop ?? []) {
    if ('error' in hop) rows.push(`| kafkajs hop | – | – | failed: ${hop.error} |`);
    else
      rows.push(
        `| kafkajs hop at ${hop.rate} msg/s (1 producer, 1 consumer minBytes 1) | ${fmt(hop.latency.p50)} | ${fmt(hop.latency.p99)} | ${hop.received}/${hop.sent} received; brokers ${fmt(hop.cpu.cores['brokers'], 2)} cores, bench ${fmt(hop.cpu.cores['generator'], 2)}; kafkajs ${fmt(cpuPerMessage(hop), 2)} ms CPU/message |`,
      );
  }
  for (const path of latency?.kafkajsPath ?? []) {
    if ('error' in path) rows.push(`| kafkajs path | – | – | failed: ${path.error} |`);
    else
      rows.push(
        `| kafkajs path at ${path.rate} msg/s (2 hops: 1 record, then ${path.fanOut} per message; a producer and a consumer per hop) | ${fmt(path.latency.p50)} | ${fmt(path.latency.p99)} | ${path.received}/${path.sent * path.fanOut} records read; brokers ${fmt(path.cpu.cores['brokers'], 2)} cores, machine ${fmt(path.cpu.machine, 2)}; kafkajs ${fmt(cpuPerMessage(path), 2)} ms CPU/message |`,
      );
  }
  // The sustained-rate target's floor, read as the search reads ours: the path's loads in
  // ascending order, up to the first that lost a record or went over the search's p99 limit.
  // The path runs only the fixed loads, so what it sustains lies between that one and the next.
  const paths = (latency?.kafkajsPath ?? []).filter((p): p is Exclude<typeof p, { error: string }> => !('error' in p));
  if (paths.length > 0) {
    const ascending = [...paths].sort((a, b) => a.rate - b.rate);
    const firstOver = ascending.findIndex((p) => p.received < p.sent * p.fanOut || p.latency.p99 > p99TargetMs);
    const held = (firstOver === -1 ? ascending : ascending.slice(0, firstOver)).at(-1);
    const loads = ascending.map((p) => p.rate).join(', ');
    rows.push(
      held === undefined
        ? `| kafkajs path: highest load sustained (p99 ≤ ${p99TargetMs} ms, every record read) | – | – | none of its loads (${loads} msg/s) |`
        : `| kafkajs path: highest load sustained (p99 ≤ ${p99TargetMs} ms, every record read) | ${fmt(held.latency.p50)} | ${fmt(held.latency.p99)} | ${held.rate} msg/s of its loads ${loads} msg/s: the floor of the sustained-rate target |`,
    );
  }
  for (const p of producer) {
    if ('error' in p) rows.push(`| Java ProducerPerformance | – | – | failed: ${p.error} |`);
    else
      rows.push(
        `| Java ProducerPerformance at ${p.offeredRecordsPerSec} records/s (acks=all, idempotent; send→ack), ${readerLabel(p)} | ${fmt(p.p50)} | ${fmt(p.p99)} | kept ${fmt(p.recordsPerSec, 0)} records/s; brokers ${fmt(p.cpu.cores['brokers'], 2)} cores, ${fmt(p.brokersCpuMsPerRecord, 3)} ms/record |`,
      );
  }
  const ours = results.filter((r) => r.kafkaHops !== undefined);
  if (ours.length > 0) {
    rows.push(
      '',
      '| ours: send→deliver p50 against the floor | phase (msg/s) | p50 (ms) | hops | ÷ (hops × EndToEndLatency p50) | ÷ (hops × kafkajs hop p50 at the rate) |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const r of ours) {
      const hops = r.kafkaHops!;
      const runs = [...r.steps.map((run) => ({ run, kind: 'step' })), ...r.fixed.map((run) => ({ run, kind: 'fixed' }))].sort(
        (a, b) => a.run.offeredRate - b.run.offeredRate,
      );
      for (const { run, kind } of runs) {
        const hop = latency?.kafkajsHop.find((h) => !('error' in h) && h.rate === run.offeredRate);
        const hopP50 = hop !== undefined && !('error' in hop) ? hop.latency.p50 : undefined;
        const vsE2e = e2eP50 === undefined ? '–' : fmt(ratio(run.latency.p50, hops * e2eP50), 2);
        const vsHop = hopP50 === undefined ? '–' : fmt(ratio(run.latency.p50, hops * hopP50), 2);
        rows.push(`| ${r.target} | ${kind} ${run.offeredRate} | ${fmt(run.latency.p50)} | ${hops} | ${vsE2e} | ${vsHop} |`);
      }
    }
  }
  const wsRelay = results.find((r) => r.target === 'ws-relay');
  if (ours.length > 0 && paths.length > 0) {
    rows.push(
      '',
      `| ours beside the kafkajs path at the same rate | msg/s | p50 (ms) | p99 (ms) | CPU per delivery (ms; the path's: its kafkajs CPU per message ÷ ${deliveriesPerMessage}) | machine (cores) |`,
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const path of paths) {
      const pathPerDelivery = cpuPerMessage(path) / deliveriesPerMessage;
      rows.push(
        `| kafkajs path | ${path.rate} | ${fmt(path.latency.p50)} | ${fmt(path.latency.p99)} | ${fmt(pathPerDelivery, 3)} | ${fmt(path.cpu.machine, 2)} |`,
      );
      // The WebSocket floor at the same rate, and with the path: what a delivery of ours
      // cannot cost less than with these libraries (its WebSocket work and its Kafka work).
      const relay = wsRelay?.fixed.find((x) => x.offeredRate === path.rate);
      if (relay !== undefined) {
        rows.push(
          `| ws relay (one plain ws process, no cluster) | ${relay.offeredRate} | ${fmt(relay.latency.p50)} | ${fmt(relay.latency.p99)} | ${fmt(relay.serverCpuMsPerDelivery, 3)} | ${fmt(relay.machineCores, 2)} |`,
          `| ws relay + kafkajs path (sum of CPU per delivery) | ${path.rate} | – | – | ${fmt(relay.serverCpuMsPerDelivery + pathPerDelivery, 3)} | – |`,
        );
      }
      for (const r of ours) {
        const run = r.fixed.find((x) => x.offeredRate === path.rate);
        if (run !== undefined)
          rows.push(
            `| ${r.target} | ${run.offeredRate} | ${fmt(run.latency.p50)} | ${fmt(run.latency.p99)} | ${fmt(run.serverCpuMsPerDelivery, 3)} | ${fmt(run.machineCores, 2)} |`,
          );
      }
    }
  }
  return rows.join('\n');
}
