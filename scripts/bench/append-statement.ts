/**
 * `npx tsx scripts/bench/append-statement.ts [--compare prepared|driver|plan] [--appends N] [--rounds R] [--batch B]`:
 * the message append alone, against the real PostgreSQL of DATABASE_URL, two settings
 * alternating (A, B, B, A…) so the machine's drift hits both:
 * - `prepared` (default): named prepared statements on and off;
 * - `driver`: the statement run on the pg pool itself (the store's own appendMessages) and
 *   the same statement through Prisma (`$queryRawUnsafe` on the same store's client and pool,
 *   as the PGlite store runs it and as every store did before);
 * - `plan`: the statement on the store's append pool, which keeps PostgreSQL's generic plan
 *   (append-pool.ts), and on the main pool with `plan_cache_mode` auto (planned every time).
 * For each: the wall time per append, this process's CPU per append (process.cpuUsage: the
 * driver's and our code's share) and PostgreSQL's CPU per append (every `postgres` process's
 * utime + stime from /proc, summed, before and after). One store of one pooled connection per
 * setting, 5-member rooms, B messages per statement (the batcher's list).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { appendList, createAppendFixture } from './append-fixture';
import { median } from './stats';
import { APPEND_MESSAGES_SQL, type AppendRow } from '../../src/adapters/prisma/append-statement';
import { createPrismaAppendMessages } from '../../src/adapters/prisma/prisma-append-messages';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import type { ChatStore } from '../../src/ports/chat-store';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1' },
    compare: { type: 'string', default: 'prepared' },
  },
});
const COMPARISONS = {
  prepared: ['prepared', 'unnamed'],
  driver: ['pool', 'prisma'],
  plan: ['generic', 'auto'],
} as const;
const compare = values.compare;
if (!Object.hasOwn(COMPARISONS, compare)) throw new Error('--compare prepared|driver|plan');
/** The two settings compared, A first. */
const SETTINGS = COMPARISONS[compare as keyof typeof COMPARISONS];
type Setting = (typeof COMPARISONS)[keyof typeof COMPARISONS][number];
interface RoundResult {
  wallMs: number;
  ownCpuMs: number;
  pgCpuMs: number;
}
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

async function run(setting: Setting): Promise<RoundResult> {
  const store = createPrismaChatStore({
    databaseUrl,
    poolSize: 1,
    preparedStatements: setting !== 'unnamed',
    // Every setting but `auto` as the product runs it (the generic plan kept), so the other
    // comparisons measure what they always did plus today's default.
    genericAppendPlan: setting !== 'auto',
  });
  await store.start();
  const append: ChatStore['appendMessages'] =
    setting === 'prisma'
      ? createPrismaAppendMessages({ query: (args) => store.prisma.$queryRawUnsafe<AppendRow[]>(APPEND_MESSAGES_SQL, ...args) })
      : (list) => store.appendMessages(list);
  try {
    const tag = randomUUID().slice(0, 8);
    const fixture = await createAppendFixture(store, `as-${tag}`);
    // Warm-up: the connection, and (prepared) the first five custom plans.
    for (let i = 0; i < 20; i++)
      await append([{ id: randomUUID(), roomId: fixture.roomIds[0]!, senderId: fixture.users[0]!, clientMsgId: `w${i}`, text: 'warm' }]);
    const cpu0 = postgresCpuS();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < appends; i++) {
      await append(appendList(fixture, i, batch));
    }
    const wallMs = (performance.now() - t0) / appends;
    const own = process.cpuUsage(own0);
    return { wallMs, ownCpuMs: (own.user + own.system) / 1000 / appends, pgCpuMs: ((postgresCpuS() - cpu0) * 1000) / appends };
  } finally {
    await store.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `append-statement: ${appends} appends of ${batch} message(s) per round, ${rounds} rounds, ${SETTINGS.join(' vs ')}, alternating`,
  );
  const out = new Map<Setting, RoundResult[]>(SETTINGS.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const setting of r % 2 === 0 ? SETTINGS : [...SETTINGS].reverse()) {
      const result = await run(setting);
      out.get(setting)!.push(result);
      console.log(
        `round ${r + 1} ${setting.padEnd(8)}  wall ${result.wallMs.toFixed(3)} ms/append  this process's CPU ${result.ownCpuMs.toFixed(3)} ms/append  postgres CPU ${result.pgCpuMs.toFixed(3)} ms/append`,
      );
    }
  }
  const [a, b] = SETTINGS.map((k) => out.get(k)!);
  const ratio = (f: (x: RoundResult) => number): string => (median(a!.map(f)) / median(b!.map(f))).toFixed(2);
  console.log(
    `median: ${SETTINGS[0]} / ${SETTINGS[1]}  wall ${ratio((x) => x.wallMs)}  this process's CPU ${ratio((x) => x.ownCpuMs)}  postgres CPU ${ratio((x) => x.pgCpuMs)}`,
  );
}

void main();
