import { randomUUID } from 'node:crypto';
import type { ChatStore, NewMessage } from '../../src/ports/chat-store';

/** The users and rooms the append microbenches write into: 5 users, 4 rooms with all of them as members. */
export interface AppendFixture {
  readonly users: readonly string[];
  readonly roomIds: readonly string[];
}

export async function createAppendFixture(store: Pick<ChatStore, 'createUser' | 'createRoom'>, prefix: string): Promise<AppendFixture> {
  const users = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);
  for (const userId of users) await store.createUser({ userId, displayName: userId, passwordHash: 'x' });
  const rooms = await Promise.all(
    [0, 1, 2, 3].map((i) => store.createRoom({ roomId: `${prefix}-r${i}`, name: 'bench', createdBy: users[0]!, members: users })),
  );
  return { users, roomIds: rooms.map((r) => r.roomId) };
}

/** The `i`th append's list of `batch` 100-byte messages, spread over the fixture's rooms and senders. */
export function appendList({ users, roomIds }: AppendFixture, i: number, batch: number): NewMessage[] {
  return Array.from({ length: batch }, (_, j) => ({
    id: randomUUID(),
    roomId: roomIds[(i + j) % roomIds.length]!,
    senderId: users[(i + j) % users.length]!,
    clientMsgId: `m${i}-${j}`,
    text: 'x'.repeat(100),
  }));
}
