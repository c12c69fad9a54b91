/**
 * Where the machine's CPU goes during a phase: cores used by each group of processes
 * (our instances or the peer's nodes, the Kafka brokers, PostgreSQL, Redis, the load
 * generator), from /proc/<pid>/stat utime + stime (a process's figure covers all its
 * threads), and the rest of the machine (/proc/stat busy minus those groups: anything
 * else running on the box, other people's tests included).
 */
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { machineTicks } from './node-process';
import { round } from './stats';

/** A group's processes, found again at every reading (PostgreSQL backends come and go). */
export type CpuGroups = Readonly<Record<string, () => Promise<number[]>>>;

/** Cores per group over a phase, plus the whole machine and what the groups do not explain. */
export interface CpuAccount {
  readonly wallS: number;
  readonly cores: Readonly<Record<string, number>>;
  readonly machine: number;
  /** machine − the groups: other processes on the box (other people's runs too). */
  readonly other: number;
}

export interface CpuReading {
  /** Ends the phase: cores per group since the reading was taken. */
  stop(): Promise<CpuAccount>;
}

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

export interface ProcTimes {
  readonly start: string;
  readonly ppid: number;
  /** utime + stime, ms. */
  readonly self: number;
  /** cutime + cstime, ms: children it has reaped (a postmaster's exited backends). */
  readonly reaped: number;
}

/** A process's CPU times from /proc/<pid>/stat; undefined once it is gone. */
export async function procTimes(pid: number): Promise<ProcTimes | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14) … starttime(19).
    return {
      start: f[19]!,
      ppid: Number(f[1]),
      self: (Number(f[11]) + Number(f[12])) * CLOCK_TICK_MS,
      reaped: (Number(f[13]) + Number(f[14])) * CLOCK_TICK_MS,
    };
  } catch {
    return undefined; // it exited
  }
}

export type GroupSnapshot = ReadonlyMap<number, ProcTimes>;

async function snapshot(pids: readonly number[]): Promise<GroupSnapshot> {
  const out = new Map<number, ProcTimes>();
  for (const pid of new Set(pids)) {
    const t = await procTimes(pid);
    if (t !== undefined) out.set(pid, t);
  }
  return out;
}

/**
 * CPU a group used between two snapshots (ms): each process's own time since the first
 * snapshot (all of it for a process started since), plus what its members reaped from
 * children that exited in between, less what those children had used by the first
 * snapshot. The kernel adds a child's whole life to its reaper's `reaped` when it exits,
 * so a PostgreSQL backend that lived through earlier phases and closed in this one (the
 * append pool renews its connections, node-postgres closes idle ones) would otherwise be
 * billed here for all of them, and counted twice: until 2026-12-01's eighth round it was,
 * which is how PostgreSQL's cores swung between phases of one load by 0.2–0.5.
 * A process that exited unreaped between the readings, or reaped by a process outside the
 * group, is missed: for the groups here (the postmaster reaps its backends) neither happens.
 */
export function usedMs(before: GroupSnapshot, after: GroupSnapshot): number {
  const stayed = (pid: number): boolean => {
    const a = after.get(pid);
    return a !== undefined && a.start === before.get(pid)?.start;
  };
  let ms = 0;
  for (const [pid, a] of after) {
    const b = before.get(pid);
    ms += b !== undefined && b.start === a.start ? a.self - b.self + (a.reaped - b.reaped) : a.self;
  }
  for (const [pid, b] of before) if (!stayed(pid) && stayed(b.ppid)) ms -= b.self;
  return ms;
}

/** Starts a reading of `groups` now. */
export async function startCpuReading(groups: CpuGroups): Promise<CpuReading> {
  const names = Object.keys(groups);
  const take = async (): Promise<GroupSnapshot[]> => Promise.all(names.map(async (n) => snapshot(await groups[n]!())));
  const before = await take();
  const machineBefore = await machineTicks();
  const t0 = performance.now();
  return {
    async stop() {
      const after = await take();
      const machineAfter = await machineTicks();
      const wallMs = performance.now() - t0;
      const cores: Record<string, number> = {};
      let accounted = 0;
      names.forEach((n, i) => {
        const c = usedMs(before[i]!, after[i]!) / wallMs;
        cores[n] = round(c, 3);
        accounted += c;
      });
      const machine = ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total)) * cpus().length;
      return { wallS: round(wallMs / 1000, 1), cores, machine: round(machine, 2), other: round(Math.max(0, machine - accounted), 2) };
    },
  };
}

/** Pids whose command line matches `test` (all users' processes this user may read). */
export async function pidsWhere(test: (cmdline: string, comm: string) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [cmdline, comm] = await Promise.all([
        readFile(join('/proc', entry, 'cmdline'), 'utf8'),
        readFile(join('/proc', entry, 'comm'), 'utf8'),
      ]);
      if (test(cmdline.replace(/\0/g, ' '), comm.trim())) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/**
 * The Kafka brokers: the pids infra.sh wrote (<infra>/kafka/N.pid) when they are alive,
 * otherwise any JVM running `kafka.Kafka` (a cluster started some other way).
 */
export async function brokerPids(infraDir: string): Promise<number[]> {
  const fromFiles: number[] = [];
  for (const n of [1, 2, 3]) {
    try {
      const pid = Number((await readFile(join(infraDir, 'kafka', `${n}.pid`), 'utf8')).trim());
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmd.includes('kafka.Kafka')) fromFiles.push(pid);
    } catch {
      // no such file or process
    }
  }
  return fromFiles.length > 0 ? fromFiles : pidsWhere((cmd, comm) => comm === 'java' && / kafka\.Kafka /.test(` ${cmd} `));
}

/** Every PostgreSQL process: the postmaster, its helpers and the backends. */
export const postgresPids = (): Promise<number[]> =>
  pidsWhere((cmd, comm) => comm === 'postgres' || /(^|\/)postgres( |$)/.test(cmd.split(' ')[0] ?? ''));

export const redisPids = (): Promise<number[]> => pidsWhere((_cmd, comm) => comm === 'redis-server');

/** The groups every phase accounts for, given the servers' pids and the generator's. */
export function standardGroups({
  servers,
  infraDir,
  generator = async () => [process.pid],
}: {
  servers: () => number[];
  infraDir: string;
  generator?: () => Promise<number[]>;
}): CpuGroups {
  return {
    servers: async () => servers(),
    brokers: () => brokerPids(infraDir),
    postgres: postgresPids,
    redis: redisPids,
    generator,
  };
}
