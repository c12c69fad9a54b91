/**
 * `npx tsx scripts/bench/perf-summary.ts <file.data...> [--top N] [--callers PKG] [--files PKG]`: where our instances'
 * CPU went in `perf record` files (as `npm run bench -- --perf` writes them, one per load
 * step), in on-CPU samples only — the kernel's share included, a preempted thread's wait
 * not (scripts/bench/perf-recorder.ts says why that matters here). Tables:
 * - by thread (the main thread against V8's and libuv's helpers);
 * - by what the sample was executing: kernel, JavaScript (named by package or source file),
 *   node's own native code, or another library;
 * - every sample charged to the nearest package or source frame up its stack, so a system
 *   call, a V8 builtin or the garbage collector is billed to the code that caused it;
 * - the kernel's samples by system call;
 * - with `--callers PKG` (e.g. zod): the samples charged to PKG, by the nearest other
 *   package or source frame above it, i.e. which of our files made PKG do that work;
 * - with `--files PKG` (e.g. kafkajs): the samples charged to PKG, by the file of PKG they
 *   were charged through (its nearest frame), i.e. which part of PKG did the work.
 * Needs perf, and the /tmp/perf-<pid>.map files the instances wrote (--perf-basic-prof):
 * run it on the machine that recorded, before those files are removed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { PERF_FREQUENCY } from './perf-recorder';
import { owner } from './profile-summary';

export interface Frame {
  readonly symbol: string;
  readonly dso: string;
}
export interface Sample {
  /** `main` (the event loop: tid = pid) or `helper` (V8's GC and compiler threads, libuv's pool). */
  readonly thread: 'main' | 'helper';
  /** Leaf first. */
  readonly frames: readonly Frame[];
}

/** A JavaScript frame's function name and the url of its file; undefined for any other frame. */
function jsFrame(frame: Frame): { name: string; url: string } | undefined {
  if (!frame.dso.includes('perf-')) return undefined;
  // --perf-basic-prof names a function `JS:*name url:line:col` (or LazyCompile:/Function:
  // on older V8); the name may hold spaces (`get x`), the url does not. Builtins and stubs
  // have no url.
  const m = /^(?:JS|LazyCompile|Function|Script):[*~^+-]?(.*) (\S+?)(?::\d+)*$/.exec(frame.symbol);
  if (m === null || !m[2]!.includes('/')) return undefined;
  return { name: m[1]!, url: m[2]! };
}

/** A frame's package or source file when it is JavaScript from a file, else undefined. */
export function codeOwner(frame: Frame): string | undefined {
  const js = jsFrame(frame);
  if (js === undefined) return undefined;
  const o = owner(js.url, js.name);
  return o.startsWith('(') || o.startsWith('node:') ? undefined : o;
}

/** What the leaf frame is: kernel, js:<owner>, js (a V8 builtin or stub), node (its binary), or a library's file name. */
export function leafKind(frame: Frame | undefined): string {
  if (frame === undefined) return '(no stack)';
  if (frame.dso === '[kernel.kallsyms]' || frame.dso.startsWith('[kernel')) return 'kernel';
  if (frame.dso.includes('perf-')) {
    const o = codeOwner(frame);
    return o === undefined ? 'js (V8 builtins, stubs, regexp)' : `js: ${o}`;
  }
  const base = frame.dso.replace(/^.*\//, '');
  if (base === 'node') return nodeBinaryPart(frame.symbol);
  return base;
}

/** Which part of the node binary a symbol is in (V8's builtins are embedded in it). */
function nodeBinaryPart(symbol: string): string {
  if (symbol.startsWith('Builtins_')) return 'node: V8 builtins (calls, ICs, promises, async)';
  if (/^v8::internal::compiler|^v8::internal::maglev|^v8::internal::baseline/.test(symbol)) return 'node: V8 compilers';
  if (/Heap|Mark|Sweep|Scaveng|Evacuat|GC|Minor|Concurrent|Remembered|Slot/.test(symbol)) return 'node: V8 garbage collector';
  if (/^uv_|^uv__/.test(symbol)) return 'node: libuv';
  if (/^node::|^napi_/.test(symbol)) return 'node: bindings (streams, buffers, crypto, timers)';
  if (/^v8::/.test(symbol)) return 'node: V8 runtime (other)';
  return 'node: other';
}

/** The system call a kernel stack is in (`__x64_sys_sendmsg` → sendmsg), or what else it is. */
export function kernelActivity(frames: readonly Frame[]): string {
  const kernel = frames.filter((f) => f.dso === '[kernel.kallsyms]').map((f) => f.symbol);
  for (const sym of kernel) {
    const sys = /^(?:__x64_sys_|__se_sys_|__do_sys_|ksys_)(\w+)/.exec(sym);
    if (sys !== null) return sys[1]!;
  }
  // A thread switched back in is charged the switch (its samples land where interrupts are
  // enabled again, after finish_task_switch).
  if (kernel.includes('__schedule')) return '(context switch)';
  if (kernel.some((s) => /page_fault/.test(s))) return '(page faults)';
  if (kernel.some((s) => /^asm_(sysvec|common_interrupt)|^handle_softirqs|^__irq_exit/.test(s))) return '(interrupts, softirq)';
  return `(other: ${kernel[0] ?? '?'})`;
}

/** Parses `perf script -F comm,pid,tid,ip,sym,dso` output: a header line per sample (`node  7774/7775`), then its stack, then a blank line. */
export async function* readSamples(lines: AsyncIterable<string>): AsyncGenerator<Sample> {
  let thread: Sample['thread'] | undefined;
  let frames: Frame[] = [];
  for await (const line of lines) {
    if (line.trim() === '') {
      if (thread !== undefined) yield { thread, frames };
      thread = undefined;
      frames = [];
      continue;
    }
    if (thread === undefined) {
      // The thread's name may hold spaces; pid/tid ends the line.
      const ids = /(\d+)\/(\d+)\s*$/.exec(line);
      thread = ids !== null && ids[1] === ids[2] ? 'main' : 'helper';
      continue;
    }
    // The symbol may hold parentheses (C++ signatures); the file in the last pair does not.
    const m = /^\s*[0-9a-f]+\s+(.*)\s+\(([^()]*)\)\s*$/.exec(line);
    if (m !== null) frames.push({ symbol: m[1]!.replace(/\+0x[0-9a-f]+$/, ''), dso: m[2]! });
  }
  if (thread !== undefined) yield { thread, frames };
}

/**
 * For a sample charged to `pkg` (its nearest package or source frame), the nearest frame
 * above that belongs to something else: the caller that made `pkg` work. Undefined when the
 * sample is not charged to `pkg`; '(none)' when nothing else is on the stack.
 */
export function callerOf(frames: readonly Frame[], pkg: string): string | undefined {
  const owners = frames.map(codeOwner).filter((o): o is string => o !== undefined);
  if (owners[0] !== pkg) return undefined;
  return owners.find((o) => o !== pkg) ?? '(none)';
}

/**
 * For a sample charged to `pkg`, the file within `pkg` of that nearest frame
 * (`src/network/connection.js` for kafkajs); undefined when the sample is not charged to `pkg`.
 */
export function fileOf(frames: readonly Frame[], pkg: string): string | undefined {
  for (const frame of frames) {
    const o = codeOwner(frame);
    if (o === undefined) continue;
    if (o !== pkg) return undefined;
    const url = jsFrame(frame)!.url;
    const at = url.lastIndexOf(`node_modules/${pkg}/`);
    return at < 0 ? url : url.slice(at + `node_modules/${pkg}/`.length);
  }
  return undefined;
}

class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  table(title: string, total: number, top: number): string {
    const rows = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [
      `| ${title} | samples | CPU s | share |`,
      '| --- | --- | --- | --- |',
      ...rows.map(
        ([k, n]) => `| ${k.replace(/\|/g, '\\|')} | ${n} | ${(n / PERF_FREQUENCY).toFixed(2)} | ${((100 * n) / total).toFixed(1)} % |`,
      ),
    ].join('\n');
  }
}

async function summarize(file: string, top: number, callersOf?: string, filesOf?: string): Promise<string> {
  const perf = spawn('perf', ['script', '-i', file, '-F', 'comm,pid,tid,ip,sym,dso', '--no-inline'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  perf.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => perf.once('exit', resolve));
  const threads = new Tally();
  const leaves = new Tally();
  const charged = new Tally();
  const kernel = new Tally();
  const callers = new Tally();
  const files = new Tally();
  let total = 0;
  for await (const s of readSamples(createInterface({ input: perf.stdout }))) {
    total++;
    threads.add(s.thread);
    const kind = leafKind(s.frames[0]);
    leaves.add(kind);
    if (kind === 'kernel') kernel.add(kernelActivity(s.frames));
    const code = s.frames.map(codeOwner).find((o) => o !== undefined);
    charged.add(code ?? `(${s.thread}: ${kind})`);
    if (callersOf !== undefined) {
      const caller = callerOf(s.frames, callersOf);
      if (caller !== undefined) callers.add(caller);
    }
    if (filesOf !== undefined) {
      const f = fileOf(s.frames, filesOf);
      if (f !== undefined) files.add(f);
    }
  }
  const code = await exited;
  if (code !== 0) throw new Error(`perf script -i ${file} ended with ${code}: ${stderr.trim().slice(0, 500)}`);
  const kernelTotal = [...kernel.counts.values()].reduce((a, b) => a + b, 0);
  return [
    `## ${file}: ${total} samples (${(total / PERF_FREQUENCY).toFixed(1)} CPU s)`,
    threads.table('thread', total, top),
    leaves.table('executing', total, top),
    charged.table('charged to the nearest package or source frame', total, top),
    kernelTotal === 0 ? '' : kernel.table(`kernel, by system call (share of the kernel's ${kernelTotal})`, kernelTotal, top),
    callersOf === undefined ? '' : callers.table(`charged to ${callersOf}, by its nearest caller (share of all samples)`, total, top),
    filesOf === undefined ? '' : files.table(`charged to ${filesOf}, by its file (share of all samples)`, total, top),
  ].join('\n\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, callers: { type: 'string' }, files: { type: 'string' } },
  });
  if (positionals.length === 0) throw new Error('usage: perf-summary.ts <file.data...> [--top N] [--callers PKG] [--files PKG]');
  for (const f of positionals) process.stdout.write(`${await summarize(f, Number(values.top), values.callers, values.files)}\n\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
