/**
 * `npm run bench [-- --quick] [options]`: our 3-instance cluster on the real 3-broker Kafka
 * against a 3-node Socket.IO cluster with @socket.io/redis-adapter, same workload, same
 * machine, same script. Not part of `npm test`. See docs/benchmarks.md for what each figure
 * means and the numbers of the last full run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChatTarget } from './chat-target';
import { standardGroups } from './cpu-account';
import { cpuAccountTable } from './cpu-account-table';
import { floorTable } from './floor-table';
import { measureIdleCpu, type IdleWindow } from './idle-cpu';
import { measureIdleMemory } from './idle-memory';
import { KAFKA_HOPS, kafkaHopsOf } from './kafka-hops';
import { createKeyedChatTarget } from './keyed-chat-target';
import { openLoadSession, type LoadResult, type Workload } from './load-run';
import { measureLoginRate, type LoginRateResult } from './login-rate';
import { besideKafkajsPath, measureLatencyFloor, measureProducerFloor, type LatencyFloor, type ProducerFloor } from './measure-floor';
import { ROOT } from './node-process';
import { createSocketIoTarget } from './socketio-target';
import { createWsRelayTarget } from './ws-relay-target';
import { ratio } from './stats';
import { lineChart, type Series } from './svg-chart';
import type { TargetResults } from './target-results';
import { LOCAL_BROKERS } from './scratch-topics';
import { createPerfRecorder } from './perf-recorder';
import { applyMigrations, dropDatabase } from '../../src/adapters/postgres/migrations';
import { MIGRATIONS_DIR, withDatabase } from '../db/env';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    'room-size': { type: 'string' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    'max-rates': { type: 'string' },
    idle: { type: 'string' },
    'login-seconds': { type: 'string' },
    only: { type: 'string' },
    baseline: { type: 'string' },
    variant: { type: 'string', multiple: true },
    out: { type: 'string', default: 'bench-results' },
    'cpu-prof': { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
    'no-infra': { type: 'boolean', default: false },
    hops: { type: 'string' },
    'warm-up': { type: 'string' },
    'idle-cpu': { type: 'string' },
    'idle-steady': { type: 'string' },
    'no-floor': { type: 'boolean', default: false },
    'floor-messages': { type: 'string' },
    'charts-from': { type: 'string' },
    logs: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `usage: npm run bench -- [--quick] [options]
  --clients N         connected clients (default 300; quick 60)
  --room-size K       members per room (default 5)
  --rates A,B,C       fixed offered loads, messages/s (default 100,200,1000,2000; quick 100,1000)
  --duration S        seconds per fixed load (default 20; quick 6)
  --max-rates A,B,..  steps of the sustained-rate search, until one has p99 > 250 ms, a loss
                      or an error (reported: the best step within p99 100 ms, and within 250 ms)
                      (default 50,100,150,200,300,500,1000,2000,3000,4000,6000; quick 100,200,400)
  --idle N            idle connections for the memory figure (default 10000; quick 1000; 0 skips)
  --login-seconds S   seconds of logins and of raw bcrypt (default 10; quick 4; 0 skips)
  --only NAME         keyed-chat, socket.io or ws-relay (the WebSocket floor: one plain ws
                      process, no cluster; runs after the peer unless --no-floor)
  --baseline DIR      also run keyed-chat from another checkout (e.g. a git worktree of an
                      earlier commit, with npm ci done) and report after/before ratios
  --variant NAME:K=V,K=V  also run keyed-chat with these environment overrides (repeatable),
                      e.g. --variant batched-fetch:KAFKA_FETCH_MIN_BYTES=65536,KAFKA_FETCH_MAX_WAIT_MS=10
  --out DIR           where JSON, SVG and summary.md go (default bench-results/)
  --cpu-prof          write CPU profiles of our instances to DIR/profiles
  --perf              record each load step of our instances (and the baseline's and variants')
                      with Linux perf (cpu-clock, call graphs) into DIR/perf/<target>-<rate>-run<N>.data;
                      read them with scripts/bench/perf-summary.ts
  --no-infra          do not run \`infra.sh up\` first (INFRA_DIR in the environment: where
                      the cluster's pid files and Kafka's jars are; default <repo>/.infra)
  --hops N            Kafka hops per delivery of this checkout's design (default KAFKA_HOPS
                      in scripts/bench/kafka-hops.ts; a --baseline uses its own, or 3)
  --warm-up S         seconds of the untimed run at 200 msg/s that every target gets before its
                      first measured step (default 30; quick 3): until V8 has compiled the hot
                      code, its compiler threads take 10-20 % of an instance's CPU (perf, sixth
                      round of docs/benchmarks.md), which is start-up, not a message's cost
  --idle-cpu S        seconds of each idle CPU window per target, no client connected
                      (default 20; quick 10; 0 skips): one once start-up went quiet, one
                      from --idle-steady on
  --idle-steady S     seconds after the instances were ready when the second, steady idle
                      window starts (default 60; quick 30): for about 40 s after it is ready,
                      V8 is still finishing a process's start-up (see scripts/bench/idle-cpu.ts)
  --no-floor          skip the Kafka floor (Java tools and the bare kafkajs hop)
  --floor-messages N  messages of Kafka's EndToEndLatency (default 2000; quick 300)
  --logs DIR          write each of our instances' log (level info) to DIR/<target>-<n>.log
  --charts-from FILE  only draw latency.svg and throughput.svg into --out from an earlier
                      run's results.json (nothing is run)`;
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const quick = args.quick;
const num = (v: string | undefined, dflt: number, name: string, min = 1): number => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`);
  return n;
};
const list = (v: string | undefined, dflt: number[], name: string): number[] =>
  v === undefined ? dflt : v.split(',').map((s) => num(s, 0, name));
const settings = Object.freeze({
  quick,
  nodes: 3,
  clients: num(args.clients, quick ? 60 : 300, 'clients'),
  roomSize: num(args['room-size'], 5, 'room-size'),
  textBytes: 100,
  rates: list(args.rates, quick ? [100, 1000] : [100, 200, 1000, 2000], 'rates'),
  durationS: num(args.duration, quick ? 6 : 20, 'duration'),
  warmupS: quick ? 1 : 3,
  /** Seconds of the untimed run at 200 msg/s before the first measured step (see --warm-up). */
  warmUpRunS: num(args['warm-up'], quick ? 3 : 30, 'warm-up'),
  maxRates: list(args['max-rates'], quick ? [100, 200, 400] : [50, 100, 150, 200, 300, 500, 1000, 2000, 3000, 4000, 6000], 'max-rates'),
  maxStepS: quick ? 5 : 10,
  idleConnections: num(args.idle, quick ? 1000 : 10_000, 'idle', 0),
  loginSeconds: num(args['login-seconds'], quick ? 4 : 10, 'login-seconds', 0),
  loginConcurrency: 16,
  loginUsers: 48,
  bcryptCost: 10,
  p99LimitMs: 100,
  /** Issue #12's limit: the highest rate sustained with p99 ≤ this and nothing lost (the search goes on to it). */
  p99TargetMs: 250,
  idleCpuS: num(args['idle-cpu'], quick ? 10 : 20, 'idle-cpu', 0),
  idleSteadyS: num(args['idle-steady'], quick ? 30 : 60, 'idle-steady', 0),
  floor: !args['no-floor'],
  floorMessages: num(args['floor-messages'], quick ? 300 : 2000, 'floor-messages'),
  floorRecordBytes: 100,
  floorSeconds: quick ? 5 : 10,
  // Records per message on the kafkajs path's second hop: ours write one per other instance
  // holding members (rooms of 5 over 3 instances: 2; the own instance's go in-process).
  floorFanOut: 2,
});
const TARGETS = ['keyed-chat', 'socket.io', 'ws-relay'] as const;
if (args.only !== undefined && !(TARGETS as readonly string[]).includes(args.only))
  throw new Error(`--only must be one of ${TARGETS.join(', ')}`);
/** Whether this run benchmarks `name` (every target unless --only names one). */
const runs = (name: (typeof TARGETS)[number]): boolean => args.only === undefined || args.only === name;

const DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/chat_bench';

/**
 * An empty, migrated database for one keyed-chat target (`chat_bench_<label>`, dropped and
 * made again at each run; left after it, to look into). Every target starts from the same
 * state, as a new deployment does: when they shared one database, each started on the
 * messages of the targets before it, and what a table's size does to the append's plan
 * (append-pool.ts) favoured whichever ran later.
 */
async function freshDatabase(label: string): Promise<string> {
  const name = `chat_bench_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
  await dropDatabase(DATABASE_URL, name);
  const url = withDatabase(DATABASE_URL, name);
  await applyMigrations({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
  return url;
}
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const outDir = resolve(ROOT, args.out);
/** The cluster's infra directory (broker pid files, Kafka's jars): as infra.sh has it. */
const INFRA_DIR = resolve(process.env['INFRA_DIR'] ?? join(ROOT, '.infra'));

const say = (line: string): void => void process.stdout.write(`${line}\n`);

const sustainedWithin = (r: LoadResult, p99Ms: number): boolean =>
  r.lost === 0 && Object.keys(r.errors).length === 0 && r.latency.p99 <= p99Ms;
const sustainedOk = (r: LoadResult): boolean => sustainedWithin(r, settings.p99LimitMs);
/** The best step that kept p99 ≤ `p99Ms` with nothing lost. */
const bestWithin = (steps: readonly LoadResult[], p99Ms: number): LoadResult | undefined =>
  steps.filter((r) => sustainedWithin(r, p99Ms)).sort((a, b) => b.messagesPerSec - a.messagesPerSec)[0];

function describe(r: LoadResult): string {
  const errs =
    Object.entries(r.errors)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ') || '-';
  const acct = ['brokers', 'postgres', 'redis', 'generator'].map((g) => `${g} ${r.cpu.cores[g] ?? '–'}`).join(' ');
  const perRecord =
    r.brokersCpuMsPerRecord === undefined ? '' : `  ${r.recordsPerMessage} records/msg, brokers ${r.brokersCpuMsPerRecord} ms/record`;
  const fallback = (r.fallbackFanOuts ?? 0) > 0 ? `  ${r.fallbackFanOuts} fan-outs through the owners (directory not trusted)` : '';
  return `${r.target.padEnd(10)} offered ${String(r.offeredRate).padStart(5)}/s  sent ${r.sent} acked ${r.acked}  msgs ${String(r.messagesPerSec).padStart(5)}/s  deliveries ${String(r.deliveriesPerSec).padStart(6)}/s  p50 ${r.latency.p50.toFixed(1)}  p95 ${r.latency.p95.toFixed(1)}  p99 ${r.latency.p99.toFixed(1)} ms  lost ${r.lost}  dup ${r.duplicates}  errors ${errs}  server ${r.serverCores} cores (machine ${r.machineCores})  gen-lag p99 ${r.generatorLagP99Ms} ms\n           cpu: ${acct} rest ${r.cpu.other}  servers ${r.serverCpuMsPerDelivery} ms/delivery${perRecord}${fallback}`;
}

/** The login's Kafka ceiling, when measured: raw bcrypt beside a bare kafkajs path moving the logins' records. */
const loginCeiling = (l: LoginRateResult): string =>
  l.kafkaCeiling !== undefined
    ? `; ${l.recordsPerLogin} Kafka records per login; raw bcrypt beside a bare kafkajs path moving them: ${l.rawBesideKafkaPerSec}/s, a ceiling of ${l.kafkaCeiling}`
    : l.besideKafkaError !== undefined
      ? `; the Kafka ceiling failed: ${l.besideKafkaError}`
      : '';

/** Our instances run with --perf-basic-prof under --perf, so that perf can name JavaScript frames. */
const perfNodeArgs = args.perf ? ['--perf-basic-prof'] : [];

async function benchTarget(
  target: ChatTarget,
  withLogin: ((t: ChatTarget) => Promise<LoginRateResult>) | undefined,
  { recordPerf = false }: { recordPerf?: boolean } = {},
): Promise<TargetResults> {
  const tag = `${target.name.replace(/\W/g, '')}-${randomBytes(3).toString('hex')}`;
  say(`\n== ${target.name}: starting ${settings.nodes} nodes`);
  await target.start();
  try {
    const idleCpu =
      settings.idleCpuS === 0
        ? undefined
        : await measureIdleCpu({ target, seconds: settings.idleCpuS, steadyAfterS: settings.idleSteadyS, infraDir: INFRA_DIR });
    if (idleCpu !== undefined) {
      const cores = (w: IdleWindow): string =>
        `instances ${w.perInstance.map((c) => c.toFixed(3)).join(', ')} cores; brokers ${w.cpu.cores['brokers']}, machine ${w.cpu.machine}`;
      say(`${target.name}: idle, no client, ${idleCpu.seconds} s once start-up went quiet: ${cores(idleCpu.startUp)}`);
      say(`${target.name}: idle, no client, ${idleCpu.seconds} s from ${idleCpu.steadyAfterS} s after ready: ${cores(idleCpu)}`);
    }
    const idle =
      settings.idleConnections === 0
        ? undefined
        : await measureIdleMemory(target, { connections: settings.idleConnections, nodes: settings.nodes, tag });
    if (idle !== undefined)
      say(
        `${target.name}: ${idle.perConnectionKB} KB per idle connection at ${idle.connections} (RSS ${idle.rssBeforeMB} → ${idle.rssAfterMB} MB, ${idle.connectPerSec} connections/s)`,
      );
    // Logins before the chat load: a backlog the load leaves behind would be measured too.
    const login = withLogin === undefined || settings.loginSeconds === 0 ? undefined : await withLogin(target);
    if (login !== undefined)
      say(
        `${target.name}: ${login.loginsPerSec} logins/s vs ${login.rawComparesPerSec} raw bcrypt compares/s at cost ${login.cost} (ratio ${login.ratio}, failures ${login.loginFailures})${loginCeiling(login)}`,
      );
    const workload: Workload = { clients: settings.clients, roomSize: settings.roomSize, textBytes: settings.textBytes };
    say(`== ${target.name}: ${workload.clients} clients, rooms of ${workload.roomSize}`);
    const session = await openLoadSession(target, workload, settings.nodes, tag, {
      cpuGroups: standardGroups({ servers: () => target.pids(), infraDir: INFRA_DIR }),
      ...(recordPerf ? { recorder: createPerfRecorder({ dir: join(outDir, 'perf'), pids: () => target.pids() }) } : {}),
    });
    const fixed: LoadResult[] = [];
    const steps: LoadResult[] = [];
    try {
      // An untimed run first: JIT, connection pools and Kafka fetch sessions warm up.
      const warmUpMs = settings.warmUpRunS * 1000;
      await session.run({ rate: 200, durationMs: warmUpMs, warmupMs: warmUpMs, drainMs: 5_000 });
      // The sustained-rate search first (it stops at the first step that fails the looser
      // limit, p99TargetMs, so both figures come from one search), then the fixed loads in
      // ascending order: the heaviest, which may overload, goes last.
      for (const rate of settings.maxRates) {
        const r = await session.run({ rate, durationMs: settings.maxStepS * 1000, warmupMs: settings.warmupS * 1000, drainMs: 10_000 });
        const verdict = sustainedOk(r)
          ? 'sustained'
          : sustainedWithin(r, settings.p99TargetMs)
            ? `NOT sustained (p99 > ${settings.p99LimitMs} ms; within ${settings.p99TargetMs} ms)`
            : 'NOT sustained';
        say(`${describe(r)}  ${verdict}`);
        steps.push(r);
        if (!sustainedWithin(r, settings.p99TargetMs)) break;
      }
      for (const rate of [...settings.rates].sort((a, b) => a - b)) {
        const r = await session.run({ rate, durationMs: settings.durationS * 1000, warmupMs: settings.warmupS * 1000, drainMs: 10_000 });
        say(describe(r));
        fixed.push(r);
      }
    } finally {
      session.close();
    }
    const sustained = bestWithin(steps, settings.p99LimitMs);
    const sustainedAtTarget = bestWithin(steps, settings.p99TargetMs);
    return {
      target: target.name,
      idle,
      ...(idleCpu === undefined ? {} : { idleCpu }),
      ...(target.kafkaHops === undefined ? {} : { kafkaHops: target.kafkaHops }),
      fixed,
      steps,
      sustained,
      sustainedAtTarget,
      ...(login === undefined ? {} : { login }),
    };
  } finally {
    await target.stop();
  }
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** Before/after (markdown): this checkout against the baseline checkout, same run. */
function beforeAfterTable(before: TargetResults, after: TargetResults): string {
  const rows: string[] = [`| figure | ${before.target} | ${after.target} | ratio |`, '| --- | --- | --- | --- |'];
  const row = (name: string, a: number | undefined, b: number | undefined, digits = 1): void => {
    rows.push(`| ${name} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${a === undefined || b === undefined ? '–' : fmt(ratio(b, a), 2)} |`);
  };
  for (const rate of settings.rates) {
    const a = before.fixed.find((r) => r.offeredRate === rate);
    const b = after.fixed.find((r) => r.offeredRate === rate);
    row(`p50 at ${rate} msg/s (ms)`, a?.latency.p50, b?.latency.p50);
    row(`p99 at ${rate} msg/s (ms)`, a?.latency.p99, b?.latency.p99);
    row(`server CPU at ${rate} msg/s (cores)`, a?.serverCores, b?.serverCores, 2);
    row(`machine CPU at ${rate} msg/s (cores)`, a?.machineCores, b?.machineCores, 2);
    row(`brokers' CPU at ${rate} msg/s (cores)`, a?.cpu.cores['brokers'], b?.cpu.cores['brokers'], 2);
    row(`PostgreSQL CPU at ${rate} msg/s (cores)`, a?.cpu.cores['postgres'], b?.cpu.cores['postgres'], 2);
    row(`servers' CPU per delivery at ${rate} msg/s (ms)`, a?.serverCpuMsPerDelivery, b?.serverCpuMsPerDelivery, 3);
    row(`Kafka records per message at ${rate} msg/s`, a?.recordsPerMessage, b?.recordsPerMessage, 1);
    row(`Kafka fetches per message at ${rate} msg/s`, a?.fetchesPerMessage, b?.fetchesPerMessage, 2);
    row(`brokers' CPU per record at ${rate} msg/s (ms)`, a?.brokersCpuMsPerRecord, b?.brokersCpuMsPerRecord, 3);
  }
  const mean = (w: IdleWindow | undefined): number | undefined =>
    w === undefined ? undefined : w.perInstance.reduce((x, y) => x + y, 0) / w.perInstance.length;
  row(`idle CPU per instance, no client, steady (cores)`, mean(before.idleCpu), mean(after.idleCpu), 3);
  row(`idle CPU per instance, no client, right after start-up (cores)`, mean(before.idleCpu?.startUp), mean(after.idleCpu?.startUp), 3);
  row(`Kafka hops per delivery`, before.kafkaHops, after.kafkaHops, 0);
  row(
    `highest sustained rate, p99 ≤ ${settings.p99LimitMs} ms (msg/s)`,
    before.sustained?.messagesPerSec,
    after.sustained?.messagesPerSec,
    0,
  );
  row(
    `highest sustained rate, p99 ≤ ${settings.p99TargetMs} ms (msg/s)`,
    before.sustainedAtTarget?.messagesPerSec,
    after.sustainedAtTarget?.messagesPerSec,
    0,
  );
  row(`memory per idle connection (KB)`, before.idle?.perConnectionKB, after.idle?.perConnectionKB);
  return rows.join('\n');
}

/** The summary table (markdown): ours, the peer, and ours / peer. */
function summaryTable(ours: TargetResults | undefined, peer: TargetResults | undefined): string {
  const rows: string[] = [
    '| figure | keyed-chat | socket.io + redis-adapter | ratio (ours / peer) | target |',
    '| --- | --- | --- | --- | --- |',
  ];
  const row = (name: string, a: number | undefined, b: number | undefined, target: string, digits = 1): void => {
    rows.push(
      `| ${name} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${a === undefined || b === undefined ? '–' : fmt(ratio(a, b), 2)} | ${target} |`,
    );
  };
  for (const rate of settings.rates) {
    const a = ours?.fixed.find((r) => r.offeredRate === rate);
    const b = peer?.fixed.find((r) => r.offeredRate === rate);
    // Issue #12's: p99 ≤ 250 ms at 200 msg/s, ≤ 500 ms at 1000 msg/s (every send acked, every delivery made).
    const t = rate === 200 ? ['', '', 'p99 ≤ 250'] : rate === 1000 ? ['', '', 'p99 ≤ 500'] : ['', '', ''];
    row(`p50 send→deliver at ${rate} msg/s (ms)`, a?.latency.p50, b?.latency.p50, t[0]!);
    row(`p95 send→deliver at ${rate} msg/s (ms)`, a?.latency.p95, b?.latency.p95, t[1]!);
    row(`p99 send→deliver at ${rate} msg/s (ms)`, a?.latency.p99, b?.latency.p99, t[2]!);
  }
  row(
    `highest sustained rate, p99 ≤ ${settings.p99LimitMs} ms (msg/s)`,
    ours?.sustained?.messagesPerSec,
    peer?.sustained?.messagesPerSec,
    '',
    0,
  );
  row(
    `highest sustained rate, p99 ≤ ${settings.p99TargetMs} ms (msg/s)`,
    ours?.sustainedAtTarget?.messagesPerSec,
    peer?.sustainedAtTarget?.messagesPerSec,
    '≥ 1000',
    0,
  );
  row('… as deliveries to members (frames/s)', ours?.sustained?.deliveriesPerSec, peer?.sustained?.deliveriesPerSec, '', 0);
  row(
    `memory per idle connection at ${settings.idleConnections} (KB)`,
    ours?.idle?.perConnectionKB,
    peer?.idle?.perConnectionKB,
    '≤ 30',
    1,
  );
  for (const rate of settings.rates) {
    const a = ours?.fixed.find((r) => r.offeredRate === rate);
    const b = peer?.fixed.find((r) => r.offeredRate === rate);
    row(`servers' CPU per delivery at ${rate} msg/s (ms)`, a?.serverCpuMsPerDelivery, b?.serverCpuMsPerDelivery, '≤ 1.5× peer', 3);
    row(`machine CPU at ${rate} msg/s (cores)`, a?.machineCores, b?.machineCores, '', 2);
  }
  const idleMax = (w: IdleWindow | undefined): number | undefined => (w === undefined ? undefined : Math.max(...w.perInstance));
  const steadyAfter = ours?.idleCpu?.steadyAfterS ?? peer?.idleCpu?.steadyAfterS;
  row(
    `idle CPU of the busiest instance, no client, from ${fmt(steadyAfter, 0)} s after ready (cores)`,
    idleMax(ours?.idleCpu),
    idleMax(peer?.idleCpu),
    '≤ 0.01',
    3,
  );
  row(`… once start-up went quiet (cores)`, idleMax(ours?.idleCpu?.startUp), idleMax(peer?.idleCpu?.startUp), '', 3);
  if (ours?.login !== undefined) {
    rows.push(
      `| logins/s (bcrypt cost ${ours.login.cost}, ${ours.login.concurrency} concurrent) | ${fmt(ours.login.loginsPerSec)} | – | ${fmt(ours.login.ratio, 2)} of raw bcrypt (${fmt(ours.login.rawComparesPerSec)}/s)${loginCeiling(ours.login)} | ≥ 0.90 of raw |`,
    );
  }
  return rows.join('\n');
}

function charts(results: readonly TargetResults[], p99LimitMs: number): { latency: string; throughput: string } {
  const colors: Record<string, string> = { 'keyed-chat': '#1f6feb', 'socket.io': '#d97706', 'keyed-chat@baseline': '#8b949e' };
  const variantColors = ['#2da44e', '#8250df', '#cf222e'];
  const latency: Series[] = [];
  const throughput: Series[] = [];
  for (const r of results) {
    const runs = [...r.fixed, ...r.steps].sort((a, b) => a.offeredRate - b.offeredRate);
    const color = colors[r.target] ?? variantColors[results.indexOf(r) % variantColors.length]!;
    latency.push({ name: `${r.target} p99`, color, points: runs.map((x) => [x.offeredRate, x.latency.p99]) });
    latency.push({ name: `${r.target} p50`, color, dashed: true, points: runs.map((x) => [x.offeredRate, x.latency.p50]) });
    throughput.push({ name: r.target, color, points: runs.map((x) => [x.offeredRate, x.messagesPerSec]) });
  }
  return {
    latency: lineChart({
      title: 'send → deliver latency (log scales)',
      xLabel: 'offered load (messages/s)',
      yLabel: 'ms',
      series: latency,
      log: true,
      hLine: { y: p99LimitMs, label: `p99 limit ${p99LimitMs} ms` },
    }),
    throughput: lineChart({
      title: 'messages fully delivered per second (log scales)',
      xLabel: 'offered load (messages/s)',
      yLabel: 'messages/s',
      series: throughput,
      log: true,
    }),
  };
}

/** --charts-from: the charts of an earlier run, redrawn (the chart code changed, say). */
async function redrawCharts(file: string): Promise<void> {
  const earlier = JSON.parse(await readFile(resolve(file), 'utf8')) as { settings: { p99LimitMs: number }; results: TargetResults[] };
  const { latency, throughput } = charts(earlier.results, earlier.settings.p99LimitMs);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'latency.svg'), `${latency}\n`);
  await writeFile(join(outDir, 'throughput.svg'), `${throughput}\n`);
  say(`written: ${outDir}/latency.svg, throughput.svg`);
}

async function main(): Promise<void> {
  if (args['charts-from'] !== undefined) return redrawCharts(args['charts-from']);
  if (!args['no-infra']) {
    const up = spawnSync('bash', [join(ROOT, 'scripts/infra/infra.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (up.status !== 0) throw new Error('infra.sh up failed');
  }
  await mkdir(outDir, { recursive: true });
  say(`bench: ${JSON.stringify(settings)}`);

  // The Kafka floor first, while nothing of ours runs: Java EndToEndLatency and the bare
  // kafkajs hop at each fixed load. Kafka's Java producer follows ours (it runs at the record
  // rates ours wrote).
  let latencyFloor: LatencyFloor | undefined;
  if (settings.floor) {
    say('\n== Kafka floor: Java EndToEndLatency, bare kafkajs hop and two-hop kafkajs path');
    latencyFloor = await measureLatencyFloor({
      brokers: LOCAL_BROKERS,
      infraDir: INFRA_DIR,
      messages: settings.floorMessages,
      bytes: settings.floorRecordBytes,
      rates: settings.rates,
      seconds: settings.floorSeconds,
      fanOut: settings.floorFanOut,
    }).catch((error: unknown) => {
      say(`Kafka floor failed (the bench goes on without it): ${String(error)}`);
      return undefined;
    });
    if (latencyFloor !== undefined)
      say(
        floorTable({
          latency: latencyFloor,
          producer: [],
          results: [],
          deliveriesPerMessage: settings.roomSize - 1,
          p99TargetMs: settings.p99TargetMs,
        }),
      );
  }

  const results: TargetResults[] = [];
  const logDir = args.logs === undefined ? {} : { logDir: resolve(args.logs) };
  if (args.logs !== undefined) await mkdir(resolve(args.logs), { recursive: true });
  if (args.baseline !== undefined && runs('keyed-chat')) {
    const baseline = createKeyedChatTarget({
      brokers: LOCAL_BROKERS,
      databaseUrl: await freshDatabase('baseline'),
      redisUrl: REDIS_URL,
      bcryptCost: settings.bcryptCost,
      ...logDir,
      root: args.baseline,
      name: 'keyed-chat@baseline',
      kafkaHops: await kafkaHopsOf(resolve(args.baseline)),
      nodeArgs: perfNodeArgs,
    });
    results.push(await benchTarget(baseline, undefined, { recordPerf: args.perf }));
  }
  if (runs('keyed-chat')) {
    const profDir = join(outDir, 'profiles');
    if (args['cpu-prof']) await mkdir(profDir, { recursive: true });
    const ours = createKeyedChatTarget({
      brokers: LOCAL_BROKERS,
      databaseUrl: await freshDatabase('ours'),
      redisUrl: REDIS_URL,
      bcryptCost: settings.bcryptCost,
      ...logDir,
      kafkaHops: num(args.hops, KAFKA_HOPS, 'hops'),
      nodeArgs: [...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), ...perfNodeArgs],
    });
    results.push(
      await benchTarget(
        ours,
        async () => {
          const users = Array.from({ length: settings.loginUsers }, (_, i) => `login-${randomBytes(3).toString('hex')}-${i}`);
          await ours.prepare(users, []);
          return measureLoginRate({
            users,
            password: ours.password,
            cost: settings.bcryptCost,
            concurrency: settings.loginConcurrency,
            durationMs: settings.loginSeconds * 1000,
            login: (u, pw, i) => ours.login(u, pw, i),
            ...(ours.kafkaRecords === undefined ? {} : { kafkaRecords: ours.kafkaRecords }),
            ...(settings.floor
              ? {
                  besideKafka: async (recordsPerSec: number, seconds: number, during: () => Promise<number>) =>
                    await besideKafkajsPath({ brokers: LOCAL_BROKERS, recordsPerSec, seconds, during }),
                }
              : {}),
          });
        },
        { recordPerf: args.perf },
      ),
    );
  }
  for (const spec of runs('keyed-chat') ? (args.variant ?? []) : []) {
    const colon = spec.indexOf(':');
    const [label, assignments] = colon < 0 ? [spec, ''] : [spec.slice(0, colon), spec.slice(colon + 1)];
    const extraEnv = Object.fromEntries(
      assignments
        .split(',')
        .filter(Boolean)
        .map((kv): [string, string] => {
          // At the first '=' only: a value may hold one (NODE_OPTIONS=--max-semi-space-size=64).
          const eq = kv.indexOf('=');
          if (eq < 1) throw new Error(`--variant ${spec}: ${kv} is not K=V`);
          return [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
    );
    results.push(
      await benchTarget(
        createKeyedChatTarget({
          brokers: LOCAL_BROKERS,
          databaseUrl: await freshDatabase(`variant_${label}`),
          redisUrl: REDIS_URL,
          bcryptCost: settings.bcryptCost,
          ...logDir,
          name: `keyed-chat+${label}`,
          extraEnv,
          kafkaHops: num(args.hops, KAFKA_HOPS, 'hops'),
          nodeArgs: perfNodeArgs,
        }),
        undefined,
        { recordPerf: args.perf },
      ),
    );
  }
  if (runs('socket.io')) results.push(await benchTarget(createSocketIoTarget({ redisUrl: REDIS_URL }), undefined));
  // The WebSocket floor: part of the floor (none of our code), or asked for alone.
  if (args.only === 'ws-relay' || (args.only === undefined && settings.floor))
    results.push(await benchTarget(createWsRelayTarget(), undefined));

  const ours = results.find((r) => r.target === 'keyed-chat');
  // Kafka's Java producer at the record rates ours wrote at the fixed loads: the brokers' CPU
  // per record for Kafka's own client, beside ours in the CPU account.
  let producerFloor: ProducerFloor[] = [];
  const recordRates = (ours?.fixed ?? []).flatMap((r) =>
    r.recordsPerMessage === undefined ? [] : [Math.round(r.offeredRate * r.recordsPerMessage)],
  );
  if (settings.floor && recordRates.length > 0) {
    say("\n== Kafka floor: Java ProducerPerformance at our record rates, alone and with Kafka's Java consumer reading");
    producerFloor = await measureProducerFloor({
      brokers: LOCAL_BROKERS,
      infraDir: INFRA_DIR,
      recordRates,
      seconds: settings.floorSeconds,
      recordBytes: settings.floorRecordBytes,
    }).catch((error: unknown) => {
      say(`Kafka's ProducerPerformance floor failed (the bench goes on without it): ${String(error)}`);
      return [];
    });
  }
  const peer = results.find((r) => r.target === 'socket.io');
  const before = results.find((r) => r.target === 'keyed-chat@baseline');
  const comparisons = [
    ...(before !== undefined && ours !== undefined ? [beforeAfterTable(before, ours)] : []),
    ...(ours === undefined ? [] : results.filter((r) => r.target.startsWith('keyed-chat+')).map((v) => beforeAfterTable(ours, v))),
  ];
  const floor = settings.floor
    ? [
        `### Kafka floor\n\n${floorTable({ latency: latencyFloor, producer: producerFloor, results, deliveriesPerMessage: settings.roomSize - 1, p99TargetMs: settings.p99TargetMs })}`,
      ]
    : [];
  const account = `### CPU account (cores over each phase; rest of machine = busy cores no group explains)\n\n${cpuAccountTable({ results, producer: producerFloor })}`;
  const table = [summaryTable(ours, peer), ...floor, account, ...comparisons].join('\n\n');
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const { latency, throughput } = charts(results, settings.p99LimitMs);
  const stamp = new Date().toISOString();
  await writeFile(
    join(outDir, 'results.json'),
    `${JSON.stringify({ stamp, command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), machine, settings, floor: { latency: latencyFloor, producer: producerFloor }, results }, null, 2)}\n`,
  );
  await writeFile(join(outDir, 'latency.svg'), `${latency}\n`);
  await writeFile(join(outDir, 'throughput.svg'), `${throughput}\n`);
  await writeFile(join(outDir, 'summary.md'), `${table}\n`);
  say(`\n${table}\n\nmachine: ${JSON.stringify(machine)}\nwritten: ${outDir}/results.json, latency.svg, throughput.svg, summary.md`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
