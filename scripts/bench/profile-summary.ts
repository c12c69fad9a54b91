/**
 * `npx tsx scripts/bench/profile-summary.ts <dir|file.cpuprofile...> [--top N]`: where the
 * CPU went in V8 CPU profiles (node --cpu-prof, as `npm run bench -- --cpu-prof` writes
 * them): self time by function and by package or source file, summed over the files.
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

async function files(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) out.push(...(await readdir(p)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)));
    else out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const top = Number(values.top);
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let total = 0;
  for (const file of await files(positionals)) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      if (node === undefined) return;
      const us = profile.timeDeltas[i] ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      const o = owner(url, functionName);
      const fn = `${functionName || '(anonymous)'}  ${o}${url === '' ? '' : `:${lineNumber + 1}`}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      byOwner.set(o, (byOwner.get(o) ?? 0) + us);
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
  print('self time by function', byFunction);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
