import { randomUUID } from 'node:crypto';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { DATABASE_URL, randomName, requirePostgres } from '../support/infra';

/**
 * The hot statements are named prepared statements on the real PostgreSQL (one pooled
 * connection here, so the session that prepared them is the one asked), and are not with
 * preparedStatements off. PostgreSQL being unreachable fails the suite; it never skips.
 */
jest.setTimeout(60_000);

beforeAll(() => requirePostgres());

async function preparedAfterUse(preparedStatements: boolean): Promise<string[]> {
  // The append on the main pool (as without its own pool, append-pool.ts; that pool has its
  // own test, append-generic-plan.test.ts), so this one connection holds every statement.
  const store = createPrismaChatStore({ databaseUrl: DATABASE_URL, poolSize: 1, preparedStatements, genericAppendPlan: false });
  await store.start();
  try {
    const [alice, bob] = [randomName('prep-a'), randomName('prep-b')];
    for (const userId of [alice, bob]) await store.createUser({ userId, displayName: userId, passwordHash: 'x' });
    const room = await store.createRoom({ roomId: randomName('prep-room'), name: 'prepared', createdBy: alice, members: [alice, bob] });
    // Twice, so a second run of the same connection finds the statement it prepared.
    for (const clientMsgId of ['one', 'two']) {
      const [outcome] = await store.appendMessages([
        { id: randomUUID(), roomId: room.roomId, senderId: alice, clientMsgId, text: clientMsgId },
      ]);
      expect(outcome?.ok && outcome.message.seq).toBe(clientMsgId === 'one' ? 1 : 2);
    }
    const now = Date.now();
    await store.refreshTokens.issue({ tokenHash: randomName('hash'), familyId: randomUUID(), userId: bob, expiresAt: now + 60_000, now });
    const rows = await store.prisma.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements ORDER BY name`;
    return rows.map((r) => r.name).filter((name) => name.startsWith('chat_'));
  } finally {
    await store.stop();
  }
}

describe('prepared statements on PostgreSQL', () => {
  it('prepares the message append and the refresh-token issue once per connection', async () => {
    expect(await preparedAfterUse(true)).toEqual(['chat_append_messages', 'chat_issue_refresh_token']);
  });

  it('prepares nothing with preparedStatements off', async () => {
    expect(await preparedAfterUse(false)).toEqual([]);
  });
});
