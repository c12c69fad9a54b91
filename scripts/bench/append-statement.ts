/**
 * `npx tsx scripts/bench/append-statement.ts [--appends N] [--rounds R] [--batch B]`: the
 * message append alone, against the real PostgreSQL of DATABASE_URL, with named prepared
 * statements on and off, alternating (on, off, on, off…) so the machine's drift hits both:
 * for each, the wall time per append and PostgreSQL's CPU per append (every `postgres`
 * process's utime + stime from /proc, summed, before and after). One store of one pooled
 * connection per setting, 5-member rooms, B messages per statement (the batcher's list).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1' },
  },
});
const appends = Number(values.appends);
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/chat_test';

/** CPU seconds of every postgres process so far (clock ticks of 1/100 s). */
function postgresCpuS(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

async function run(prepared: boolean): Promise<{ wallMs: number; pgCpuMs: number }> {
  const store = createPrismaChatStore({ databaseUrl, poolSize: 1, preparedStatements: prepared });
  await store.start();
  try {
    const tag = randomUUID().slice(0, 8);
    const users = Array.from({ length: 5 }, (_, i) => `as-${tag}-${i}`);
    for (const userId of users) await store.createUser({ userId, displayName: userId, passwordHash: 'x' });
    const rooms = await Promise.all(
      [0, 1, 2, 3].map((i) => store.createRoom({ roomId: `as-${tag}-r${i}`, name: 'bench', createdBy: users[0]!, members: users })),
    );
    // Warm-up: the connection, and (prepared) the first five custom plans.
    for (let i = 0; i < 20; i++)
      await store.appendMessages([{ id: randomUUID(), roomId: rooms[0]!.roomId, senderId: users[0]!, clientMsgId: `w${i}`, text: 'warm' }]);
    const cpu0 = postgresCpuS();
    const t0 = performance.now();
    for (let i = 0; i < appends; i++) {
      const list = Array.from({ length: batch }, (_, j) => ({
        id: randomUUID(),
        roomId: rooms[(i + j) % rooms.length]!.roomId,
        senderId: users[(i + j) % users.length]!,
        clientMsgId: `m${i}-${j}`,
        text: 'x'.repeat(100),
      }));
      await store.appendMessages(list);
    }
    return { wallMs: (performance.now() - t0) / appends, pgCpuMs: ((postgresCpuS() - cpu0) * 1000) / appends };
  } finally {
    await store.stop();
  }
}

async function main(): Promise<void> {
  console.log(`append-statement: ${appends} appends of ${batch} message(s) per round, ${rounds} rounds, alternating`);
  const out: Record<string, { wallMs: number; pgCpuMs: number }[]> = { prepared: [], unnamed: [] };
  for (let r = 0; r < rounds; r++) {
    for (const prepared of r % 2 === 0 ? [true, false] : [false, true]) {
      const result = await run(prepared);
      out[prepared ? 'prepared' : 'unnamed']!.push(result);
      console.log(
        `round ${r + 1} ${prepared ? 'prepared' : 'unnamed '}  wall ${result.wallMs.toFixed(3)} ms/append  postgres CPU ${result.pgCpuMs.toFixed(3)} ms/append`,
      );
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p = out['prepared']!;
  const u = out['unnamed']!;
  console.log(
    `median: prepared / unnamed  wall ${(median(p.map((x) => x.wallMs)) / median(u.map((x) => x.wallMs))).toFixed(2)}  postgres CPU ${(
      median(p.map((x) => x.pgCpuMs)) / median(u.map((x) => x.pgCpuMs))
    ).toFixed(2)}`,
  );
}

void main();
