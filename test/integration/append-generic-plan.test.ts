import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createAppendPool, type StatementConfig } from '../../src/adapters/prisma/append-pool';
import { APPEND_MESSAGES_SQL, appendValues } from '../../src/adapters/prisma/append-statement';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { preparedStatementName } from '../../src/adapters/prisma/prepared-statements';
import { DATABASE_URL, randomName, requirePostgres } from '../support/infra';

/**
 * The append pool's connections run the message append with PostgreSQL's generic plan from
 * its first run (append-pool.ts), on the real PostgreSQL. The control is a plain pool, where
 * PostgreSQL (`plan_cache_mode` auto) makes custom plans for at least the first five runs:
 * were the setting missing, the append pool's count of custom plans would not be 0.
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
