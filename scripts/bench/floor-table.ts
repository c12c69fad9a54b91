/**
 * The floor table (markdown): Kafka's own tools and a bare kafkajs hop on the benchmark's
 * cluster, then each keyed-chat target's send→deliver p50 as a ratio to hops × floor p50.
 */
import type { LatencyFloor, ProducerFloor } from './measure-floor';
import { ratio } from './stats';
import type { TargetResults } from './target-results';

/** What read a producer floor's records: nothing, or Kafka's Java consumer (and how many it got). */
export const readerLabel = (p: { reader?: string; consumed?: number; records: number }): string =>
  p.reader === 'ConsumerPerformance' ? `Java consumer reading (${p.consumed ?? '?'}/${p.records})` : 'nothing reading';

const fmt = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function floorTable({
  latency,
  producer,
  results,
}: {
  latency: LatencyFloor | undefined;
  producer: readonly ProducerFloor[];
  results: readonly TargetResults[];
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
        `| kafkajs hop at ${hop.rate} msg/s (1 producer, 1 consumer minBytes 1) | ${fmt(hop.latency.p50)} | ${fmt(hop.latency.p99)} | ${hop.received}/${hop.sent} received; brokers ${fmt(hop.cpu.cores['brokers'], 2)} cores, bench ${fmt(hop.cpu.cores['generator'], 2)} |`,
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
  return rows.join('\n');
}
