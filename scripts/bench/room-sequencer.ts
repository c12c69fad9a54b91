/**
 * `npx tsx scripts/bench/room-sequencer.ts [--baseline DIR] [--messages N] [--rounds R]`:
 * the CPU one connection's RoomSequencer spends per message of a room, while the room's
 * first `window` (4096) messages pass on that connection and after that, for this checkout
 * and, with --baseline, another one (a git worktree of an earlier commit) in the same
 * process, alternating, so both are timed on the same machine state.
 *
 * Why it exists: the gateway keeps one sequencer per connection per room for as long as
 * the connection lives, and a sequencer remembers the last `window` seqs it wrote. A
 * long-lived connection in a busy room passes that many messages within hours; what it
 * costs per message from then on is what this measures (a bench run's rooms never get
 * there: 120 clients, rooms of 5, about 800 messages a room).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './node-process';
import { median } from './stats';

interface Sequencer {
  offer(message: { seq: number }, now: number): void;
}
type SequencerClass = new (write: (m: { seq: number }) => void, options: { gapTimeoutMs: number }) => Sequencer;

function load(root: string): SequencerClass {
  // require: the checkout is chosen at run time.
  const mod = require(join(root, 'src', 'domain', 'room-sequencer.ts')) as { RoomSequencer: SequencerClass };
  return mod.RoomSequencer;
}

/** µs of CPU per message over [0, window) and [window, messages), one new sequencer. */
function timeOne(Seq: SequencerClass, messages: number, window: number): [number, number] {
  let written = 0;
  const s = new Seq(() => written++, { gapTimeoutMs: 2_000 });
  const t0 = process.cpuUsage();
  for (let seq = 1; seq <= window; seq++) s.offer({ seq }, 0);
  const t1 = process.cpuUsage(t0);
  const t2 = process.cpuUsage();
  for (let seq = window + 1; seq <= messages; seq++) s.offer({ seq }, 0);
  const t3 = process.cpuUsage(t2);
  if (written !== messages) throw new Error(`wrote ${written} of ${messages}`);
  const us = (u: NodeJS.CpuUsage): number => u.user + u.system;
  return [us(t1) / window, us(t3) / (messages - window)];
}

function main(): void {
  const { values } = parseArgs({
    options: { baseline: { type: 'string' }, messages: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
  });
  const window = 4_096;
  const messages = Number(values.messages);
  const rounds = Number(values.rounds);
  if (!(messages > window) || !(rounds >= 1)) throw new Error(`--messages must exceed ${window}, --rounds ≥ 1`);
  const builds: [string, SequencerClass][] = [['this checkout', load(ROOT)]];
  if (values.baseline !== undefined) builds.push([`baseline ${values.baseline}`, load(resolve(values.baseline))]);
  const results = new Map<string, { first: number[]; after: number[] }>(builds.map(([name]) => [name, { first: [], after: [] }]));
  for (let r = 0; r < rounds; r++)
    for (const [name, Seq] of r % 2 === 0 ? builds : [...builds].reverse()) {
      const [first, after] = timeOne(Seq, messages, window);
      results.get(name)!.first.push(first);
      results.get(name)!.after.push(after);
    }
  process.stdout.write(
    `RoomSequencer, ${messages} messages in order on one connection, median of ${rounds} rounds (µs of CPU per message)\n` +
      `| build | messages 1–${window} | messages ${window + 1}–${messages} | after ÷ first |\n| --- | --- | --- | --- |\n`,
  );
  for (const [name, { first, after }] of results) {
    const f = median(first);
    const a = median(after);
    process.stdout.write(`| ${name} | ${f.toFixed(3)} | ${a.toFixed(3)} | ${(a / f).toFixed(1)} |\n`);
  }
}

main();
