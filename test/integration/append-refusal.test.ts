import { randomUUID } from 'node:crypto';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { DATABASE_URL, randomName, requirePostgres } from '../support/infra';

/**
 * The append runs on the pg pool itself, so its failures arrive as node-postgres errors, not
 * Prisma's. A text PostgreSQL refuses (a NUL: the gateway refuses it first, so only a store
 * caller that skips the boundary can send one) must fail that entry alone, as INTERNAL, and
 * the others of its list be written with contiguous seqs. PostgreSQL being unreachable
 * fails the suite; it never skips.
 */
jest.setTimeout(60_000);

beforeAll(() => requirePostgres());

describe('a list with an entry PostgreSQL refuses', () => {
  it('fails that entry only (INTERNAL, not retriable) and writes the others in order', async () => {
    const store = createPrismaChatStore({ databaseUrl: DATABASE_URL, poolSize: 2 });
    await store.start();
    try {
      const [alice, bob] = [randomName('refuse-a'), randomName('refuse-b')];
      for (const userId of [alice, bob]) await store.createUser({ userId, displayName: userId, passwordHash: 'x' });
      const { roomId } = await store.createRoom({
        roomId: randomName('refuse-room'),
        name: 'refusal',
        createdBy: alice,
        members: [alice, bob],
      });
      const entry = (clientMsgId: string, text: string) => ({ id: randomUUID(), roomId, senderId: alice, clientMsgId, text });
      const outcomes = await store.appendMessages([entry('one', 'first'), entry('nul', 'bad\u0000text'), entry('two', 'second')]);
      expect(
        outcomes.map((o) => (o.ok ? { seq: o.message.seq, text: o.message.text } : { code: o.error.code, retriable: o.error.retriable })),
      ).toEqual([
        { seq: 1, text: 'first' },
        { code: 'INTERNAL', retriable: false },
        { seq: 2, text: 'second' },
      ]);
      const stored = await store.listMessages(roomId, { limit: 10 });
      expect(stored.map((m) => [m.seq, m.text])).toEqual([
        [1, 'first'],
        [2, 'second'],
      ]);
    } finally {
      await store.stop();
    }
  });
});
