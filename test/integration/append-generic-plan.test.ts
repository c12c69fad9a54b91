import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { applyMigrations, dropDatabase } from '../../src/adapters/postgres/migrations';
import { withDatabase } from '../../src/adapters/postgres/postgres-url';
import { createAppendPool, type StatementConfig } from '../../src/adapters/prisma/append-pool';
import { APPEND_MESSAGES_SQL, appendValues } from '../../src/adapters/prisma/append-statement';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { preparedStatementName } from '../../src/adapters/prisma/prepared-statements';
import { MIGRATIONS_DIR } from '../../scripts/db/env';
import { DATABASE_URL, randomName, requirePostgres } from '../support/infra';

/**
 * The append pool's connections run the message append with PostgreSQL's generic plan from
 * its first run (append-pool.ts), on the real PostgreSQL. The control is a plain pool, where
 * PostgreSQL (`plan_cache_mode` auto) makes custom plans for at least the first five runs:
 * were the setting missing, the append pool's count of custom plans would not be 0.
 * Its connections are renewed after `renewAfter` statements, so that the plan, made from the
 * tables' sizes when a connection prepares the statement, follows a growing table.
 * PostgreSQL being unreachable fails the suite; it never skips.
 */
jest.setTimeout(60_000);

beforeAll(() => requirePostgres());

const RUNS = 8;
const NAME = preparedStatementName(APPEND_MESSAGES_SQL);

interface PlanCounts {
  generic_plans: string | number;
  custom_plans: string | number;
}

async function plansAfter(
  runOn: (config: StatementConfig) => Promise<{ rows: unknown[] }>,
  roomId: string,
  senderId: string,
): Promise<{ generic: number; custom: number }> {
  for (let i = 0; i < RUNS; i++) {
    const { rows } = await runOn({
      name: NAME,
      text: APPEND_MESSAGES_SQL,
      values: appendValues([{ id: randomUUID(), roomId, senderId, clientMsgId: randomUUID(), text: `m${i}` }]),
    });
    expect(rows).toHaveLength(1);
  }
  const { rows } = await runOn({ text: 'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1', values: [NAME] });
  const [counts] = rows as PlanCounts[];
  return { generic: Number(counts!.generic_plans), custom: Number(counts!.custom_plans) };
}

describe('the append pool', () => {
  it('runs the append with the generic plan every time, where a plain connection makes custom plans', async () => {
    const store = createPrismaChatStore({ databaseUrl: DATABASE_URL, poolSize: 1 });
    await store.start();
    // One connection each, so the session that ran the statement is the one asked.
    const appendPool = createAppendPool({ connectionString: DATABASE_URL, max: 1 });
    const plain = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const [alice, bob] = [randomName('plan-a'), randomName('plan-b')];
      for (const userId of [alice, bob]) await store.createUser({ userId, displayName: userId, passwordHash: 'x' });
      const room = await store.createRoom({ roomId: randomName('plan-room'), name: 'plans', createdBy: alice, members: [alice, bob] });

      expect(await plansAfter((c) => appendPool.query(c), room.roomId, alice)).toEqual({ generic: RUNS, custom: 0 });
      const control = await plansAfter((c) => plain.query(c), room.roomId, bob);
      expect(control.custom).toBeGreaterThanOrEqual(5);
    } finally {
      await appendPool.end();
      await plain.end();
      await store.stop();
    }
  });

  it('is what the store appends on: its messages get their sequence numbers as on the main pool', async () => {
    const store = createPrismaChatStore({ databaseUrl: DATABASE_URL, poolSize: 1 });
    await store.start();
    try {
      const alice = randomName('plan-s');
      await store.createUser({ userId: alice, displayName: alice, passwordHash: 'x' });
      const room = await store.createRoom({ roomId: randomName('plan-sroom'), name: 'plans', createdBy: alice, members: [alice] });
      const outcomes = await store.appendMessages(
        ['a', 'b', 'c'].map((clientMsgId) => ({ id: randomUUID(), roomId: room.roomId, senderId: alice, clientMsgId, text: clientMsgId })),
      );
      expect(outcomes.map((o) => (o.ok ? o.message.seq : o.error.code))).toEqual([1, 2, 3]);
      // The main pool's session never prepared the append: it ran on the append pool.
      const rows = await store.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements WHERE name = ${NAME}`;
      expect(rows).toEqual([]);
    } finally {
      await store.stop();
    }
  });
});

describe('the append pool, as tables grow', () => {
  it('renews a connection after `renewAfter` statements, each new session with its settings again', async () => {
    const appendPool = createAppendPool({ connectionString: DATABASE_URL, max: 1, renewAfter: 3 });
    try {
      const seen: { pid: number; plans: string; seqscan: string }[] = [];
      for (let i = 0; i < 7; i++) {
        const { rows } = await appendPool.query<{ pid: number; plans: string; seqscan: string }>({
          text: `SELECT pg_backend_pid() AS pid, current_setting('plan_cache_mode') AS plans, current_setting('enable_seqscan') AS seqscan`,
          values: [],
        });
        seen.push(rows[0]!);
      }
      const pids = seen.map((s) => s.pid);
      expect(new Set(pids.slice(0, 3)).size).toBe(1);
      expect(new Set(pids.slice(3, 6)).size).toBe(1);
      expect(new Set([pids[0], pids[3], pids[6]]).size).toBe(3);
      expect(seen.every((s) => s.plans === 'force_generic_plan' && s.seqscan === 'off')).toBe(true);
    } finally {
      await appendPool.end();
    }
  });

  it('keeps a plan made on an empty messages table from reading the table whole once it has grown', async () => {
    // A database of its own, so that `messages` is empty when the statement is prepared;
    // autovacuum off on the table, so that no ANALYZE replans it meanwhile (these machines
    // run with autovacuum off anyway). Without the pool's settings the plan kept here is a
    // sequential scan of `messages` (docs/database.md, "The append keeps its generic plan").
    const name = `append_plan_${randomUUID().slice(0, 8)}`;
    const url = withDatabase(DATABASE_URL, name);
    await applyMigrations({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR });
    const store = createPrismaChatStore({ databaseUrl: url, poolSize: 1 });
    const appendPool = createAppendPool({ connectionString: url, max: 1 });
    try {
      await store.start();
      const alice = 'alice';
      await store.createUser({ userId: alice, displayName: alice, passwordHash: 'x' });
      const room = await store.createRoom({ roomId: 'room', name: 'plans', createdBy: alice, members: [alice] });
      await store.prisma.$executeRawUnsafe('ALTER TABLE messages SET (autovacuum_enabled = false)');
      const values = (clientMsgId: string): unknown[] =>
        appendValues([{ id: randomUUID(), roomId: room.roomId, senderId: alice, clientMsgId, text: clientMsgId }]);

      const { rows } = await appendPool.query({ name: NAME, text: APPEND_MESSAGES_SQL, values: values('first') });
      expect(rows).toHaveLength(1); // prepared, and its generic plan made, on an empty table
      await store.prisma.$executeRawUnsafe(
        `INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, text)
         SELECT 'bulk-' || n, $1, n + 1, $2, 'bulk-' || n, 'x' FROM generate_series(1, 20000) AS n`,
        room.roomId,
        alice,
      );
      // The plan the same session keeps, for an append's arguments.
      const literal = (v: unknown): string => `'${JSON.stringify(v).replace(/^\[/, '{').replace(/\]$/, '}').replace(/'/g, "''")}'`;
      const plan = await appendPool.query<{ 'QUERY PLAN': string }>({
        text: `EXPLAIN EXECUTE "${NAME}"(${values('second').map(literal).join(', ')})`,
        values: [],
      });
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).not.toMatch(/Seq Scan on messages/);
      expect(text).toMatch(/Index Scan using messages_sender_id_client_msg_id_key on messages/);
    } finally {
      await appendPool.end();
      await store.stop();
      await dropDatabase(DATABASE_URL, name);
    }
  });
});
