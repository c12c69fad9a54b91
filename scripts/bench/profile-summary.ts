/**
 * `npx tsx scripts/bench/profile-summary.ts <dir|file.cpuprofile...> [--top N] [--window FROM:TO]`: where the
 * CPU went in V8 CPU profiles (node --cpu-prof, as `npm run bench -- --cpu-prof` writes
 * them): self time by function and by package or source file, summed over the files; and the
 * same self time charged to the nearest package or source frame up the stack, so that a native
 * write (writev, writeBuffer) or a runtime internal is billed to the code that asked for it.
 * `--window FROM:TO` keeps the samples taken in that span of CLOCK_MONOTONIC µs only: a load
 * step's `monotonicWindowUs` in the bench's results.json, so start-up, sign-ups and the other
 * steps stay out of it. Self time is wall time in a function while sampled; on a saturated
 * machine a thread preempted inside a system call is billed to that call.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<pkg> (or @scope/pkg), src/<file>, node:<internal>, or a V8 pseudo frame. */
export function owner(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'anonymous'})`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1]!;
  const src = /\/(src|scripts|test)\/(.+)$/.exec(url);
  if (src !== null) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/** True for an owner that is code (a package or a source file), not a V8 pseudo frame or a node internal. */
function isCode(o: string): boolean {
  return !o.startsWith('(') && !o.startsWith('node:');
}

async function files(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) out.push(...(await readdir(p)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)));
    else out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, window: { type: 'string' } },
  });
  const top = Number(values.top);
  const [from, to] = values.window === undefined ? [-Infinity, Infinity] : values.window.split(':').map(Number);
  if (from === undefined || to === undefined || !(from < to)) throw new Error('--window FROM:TO, µs of CLOCK_MONOTONIC, FROM < TO');
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byCaller = new Map<string, number>();
  let total = 0;
  for (const file of await files(positionals)) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const caller = new Map<number, string>();
    const callerOf = (id: number, self: string): string => {
      const known = caller.get(id);
      if (known !== undefined) return known;
      let at = parent.get(id);
      let found = self;
      while (at !== undefined && !isCode(self)) {
        const frame = nodes.get(at)!.callFrame;
        const o = owner(frame.url, frame.functionName);
        if (isCode(o)) {
          found = o;
          break;
        }
        at = parent.get(at);
      }
      caller.set(id, found);
      return found;
    };
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      at += us;
      const node = nodes.get(id);
      if (node === undefined || at < from || at > to) return;
      const { functionName, url, lineNumber } = node.callFrame;
      const o = owner(url, functionName);
      const fn = `${functionName || '(anonymous)'}  ${o}${url === '' ? '' : `:${lineNumber + 1}`}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      byOwner.set(o, (byOwner.get(o) ?? 0) + us);
      const c = callerOf(id, o);
      byCaller.set(c, (byCaller.get(c) ?? 0) + us);
      total += us;
    });
  }
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
    }
  };
  process.stdout.write(`total sampled: ${(total / 1e6).toFixed(1)} s\n`);
  print('self time by package / file', byOwner);
  print('self time charged to the nearest package or source frame up the stack', byCaller);
  print('self time by function', byFunction);
}

// Run as a script; perf-summary.ts imports owner() from here.
if (require.main === module)
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
