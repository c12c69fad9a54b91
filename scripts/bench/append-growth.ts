/**
 * `npx tsx scripts/bench/append-growth.ts --baseline DIR [--appends N] [--window W] [--batch B] [--rounds K]`:
 * what one message append costs PostgreSQL as the `messages` table grows from empty, with
 * this checkout's store and with DIR's (a git worktree of an earlier commit, with its
 * node_modules and src/generated), in one process. Each run gets a database of its own,
 * created empty and migrated for it and dropped after it, on the server of DATABASE_URL;
 * the two alternate per round (baseline, this; then this, baseline) so the machine's drift
 * hits both. One store with one pooled connection each, 5-member rooms, B messages per
 * statement. For each window of W appends: PostgreSQL's CPU per append (every
 * `postgres` process, exited backends included through the postmaster's reaped time) and
 * the wall time per append; at the end, how often the appends read `messages` whole
 * (pg_stat_user_tables.seq_scan) and how many rows those scans read.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { applyMigrations, dropDatabase } from '../../src/adapters/postgres/migrations';
import type { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { ROOT } from './node-process';
import { appendList, createAppendFixture } from './append-fixture';
import { postgresPids, startCpuReading } from './cpu-account';
import { MIGRATIONS_DIR, withDatabase } from '../db/env';

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '20000' },
    window: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
const appends = Number(values.appends);
const windowSize = Number(values.window);
const batch = Number(values.batch);
if (values.baseline === undefined) throw new Error('--baseline DIR is required: the checkout to compare with');
const baselineRoot = resolve(values.baseline);
const rounds = Number(values.rounds);
const serverUrl = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/chat_test';
const SETTINGS = ['baseline', 'this'] as const;
type Setting = (typeof SETTINGS)[number];

interface Window {
  /** Messages in the table at the window's end. */
  readonly rows: number;
  readonly pgCpuMs: number;
  readonly wallMs: number;
}
interface Run {
  readonly windows: Window[];
  readonly seqScans: number;
  readonly seqRowsRead: number;
}

async function tableScans(url: string): Promise<{ seqScans: number; seqRowsRead: number }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // Statistics reach the shared counters when a backend's transaction ends (at most once a
    // second) or it exits; the store's backends have exited, so ask for a fresh snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ seq_scan: string; seq_tup_read: string }>(
      `SELECT seq_scan, seq_tup_read FROM pg_stat_user_tables WHERE relname = 'messages'`,
    );
    return { seqScans: Number(rows[0]?.seq_scan ?? NaN), seqRowsRead: Number(rows[0]?.seq_tup_read ?? NaN) };
  } finally {
    await client.end();
  }
}

async function run(setting: Setting): Promise<Run> {
  const name = `append_growth_${randomUUID().slice(0, 8)}`;
  const url = withDatabase(serverUrl, name);
  await applyMigrations({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
  try {
    const root = setting === 'baseline' ? baselineRoot : ROOT;
    // The same factory from either checkout (its signature has not changed).
    const { createPrismaChatStore: create } = require(join(root, 'src', 'adapters', 'prisma', 'prisma-chat-store.ts')) as {
      createPrismaChatStore: typeof createPrismaChatStore;
    };
    const store = create({ databaseUrl: url, poolSize: 1 });
    await store.start();
    const windows: Window[] = [];
    try {
      const fixture = await createAppendFixture(store, 'ag');
      for (let done = 0; done < appends;) {
        const reading = await startCpuReading({ postgres: postgresPids });
        const t0 = performance.now();
        const n = Math.min(windowSize, appends - done);
        for (let i = done; i < done + n; i++) {
          await store.appendMessages(appendList(fixture, i, batch));
        }
        const wallMs = performance.now() - t0;
        const account = await reading.stop();
        done += n;
        windows.push({ rows: done * batch, pgCpuMs: (account.cores['postgres']! * account.wallS * 1000) / n, wallMs: wallMs / n });
      }
    } finally {
      await store.stop();
    }
    return { windows, ...(await tableScans(url)) };
  } finally {
    await dropDatabase(serverUrl, name);
  }
}

async function main(): Promise<void> {
  console.log(
    `append-growth: ${appends} appends of ${batch} message(s) into an empty table, windows of ${windowSize}, ` +
      `${rounds} round(s), baseline ${baselineRoot} and this checkout alternating`,
  );
  const runs: { round: number; setting: Setting; result: Run }[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const setting of r % 2 === 0 ? SETTINGS : [...SETTINGS].reverse()) {
      const result = await run(setting);
      runs.push({ round: r + 1, setting, result });
      console.log(
        `round ${r + 1} ${setting.padEnd(8)} sequential scans of messages ${result.seqScans}, rows they read ${result.seqRowsRead}`,
      );
    }
  }
  const header = ['messages in the table', ...runs.map((x) => `${x.setting} r${x.round}: PostgreSQL CPU / wall (ms per append)`)];
  console.log(`\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`);
  runs[0]!.result.windows.forEach((w, i) => {
    const cells = runs.map((x) => `${x.result.windows[i]!.pgCpuMs.toFixed(3)} / ${x.result.windows[i]!.wallMs.toFixed(3)}`);
    console.log(`| ${w.rows} | ${cells.join(' | ')} |`);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
