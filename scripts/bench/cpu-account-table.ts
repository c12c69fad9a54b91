/**
 * The CPU account table (markdown): per phase of every target, the cores of each process
 * group, the servers' CPU per delivery and the brokers' CPU per Kafka record; the brokers
 * under Kafka's own Java producer at the same record rate; and each target's idle CPU.
 */
import type { CpuAccount } from './cpu-account';
import type { IdleWindow } from './idle-cpu';
import type { LoadResult } from './load-run';
import type { ProducerFloor } from './measure-floor';
import { readerLabel } from './floor-table';
import type { TargetResults } from './target-results';

const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const GROUPS = ['servers', 'brokers', 'postgres', 'redis', 'generator'] as const;

const coreCells = (cpu: CpuAccount): string => [...GROUPS.map((g) => fmt(cpu.cores[g])), fmt(cpu.other), fmt(cpu.machine)].join(' | ');

export function cpuAccountTable({ results, producer }: { results: readonly TargetResults[]; producer: readonly ProducerFloor[] }): string {
  const rows = [
    '| target | phase | servers | brokers | postgres | redis | generator | rest of machine | machine | servers ms/delivery | records/msg | fetches/msg | brokers ms/record |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const phase = (r: TargetResults, run: LoadResult, kind: string): void => {
    rows.push(
      `| ${r.target} | ${kind} ${run.offeredRate}/s | ${coreCells(run.cpu)} | ${fmt(run.serverCpuMsPerDelivery, 3)} | ${fmt(run.recordsPerMessage, 1)} | ${fmt(run.fetchesPerMessage, 2)} | ${fmt(run.brokersCpuMsPerRecord, 3)} |`,
    );
  };
  for (const r of results) {
    if (r.idleCpu !== undefined) {
      const idle = (label: string, { cpu, perInstance }: IdleWindow): void => {
        const servers = perInstance.reduce((x, y) => x + y, 0);
        rows.push(`| ${r.target} | ${label} | ${coreCells({ ...cpu, cores: { ...cpu.cores, servers } })} | – | – | – | – |`);
      };
      idle(`idle ${r.idleCpu.seconds} s after start-up, no client`, r.idleCpu.startUp);
      idle(`idle ${r.idleCpu.seconds} s from ${r.idleCpu.steadyAfterS} s, no client`, r.idleCpu);
    }
    for (const run of r.steps) phase(r, run, 'step');
    for (const run of r.fixed) phase(r, run, 'fixed');
  }
  for (const p of producer) {
    if ('error' in p) continue;
    rows.push(
      `| Java ProducerPerformance, ${readerLabel(p)} | ${p.offeredRecordsPerSec} records/s | ${coreCells(p.cpu)} | – | – | – | ${fmt(p.brokersCpuMsPerRecord, 3)} |`,
    );
  }
  const idle = results.filter((r) => r.idleCpu !== undefined);
  if (idle.length > 0) {
    rows.push(
      '',
      '| idle instance, no client (cores; target ≤ 0.01 each) | window | per instance | brokers meanwhile |',
      '| --- | --- | --- | --- |',
    );
    for (const r of idle) {
      const { seconds, steadyAfterS, startUp } = r.idleCpu!;
      for (const [window, w] of [
        [`${seconds} s once start-up went quiet`, startUp],
        [`${seconds} s from ${steadyAfterS} s after ready`, r.idleCpu!],
      ] as const)
        rows.push(`| ${r.target} | ${window} | ${w.perInstance.map((c) => fmt(c, 3)).join(', ')} | ${fmt(w.cpu.cores['brokers'])} |`);
    }
  }
  return rows.join('\n');
}
