import { ChatError } from '../../domain/errors';
import type { ChatStore, StoredUser } from '../../ports/chat-store';

/** In-memory ChatStore: unit tests and the single-process default. Data is lost on exit. */
export function createMemoryChatStore(): ChatStore {
  const users = new Map<string, StoredUser>();
  return {
    async start() {},
    async stop() {},
    async createUser(user) {
      if (users.has(user.userId)) throw new ChatError('USER_EXISTS', `user ${user.userId} already exists`);
      users.set(user.userId, { ...user });
    },
    async findUser(userId) {
      const u = users.get(userId);
      return u === undefined ? undefined : { ...u };
    },
    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
