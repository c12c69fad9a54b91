import { randomBytes } from 'node:crypto';
import type { ChatStore } from '../../src/ports/chat-store';
import { storeAdapters, type StoreHarness } from './store-harness';

/**
 * ChatStore.searchUsers (src/ports/chat-store.ts) on every adapter: a case-insensitive
 * prefix match on userId or displayName, wildcards taken literally, in userId order.
 * Every test uses a prefix of its own, since the shared database holds others' users.
 */
const adapters = storeAdapters({ database: 'shared' });

describe.each(adapters)('ChatStore.searchUsers contract: %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: ChatStore;
  beforeAll(async () => {
    h = await makeHarness();
    store = h.store;
  });
  afterAll(async () => {
    await h?.close();
  });

  const prefix = (): string => `s${randomBytes(5).toString('hex')}`;
  const user = (userId: string, displayName = userId) => store.createUser({ userId, displayName, passwordHash: 'hash' });

  it('matches a prefix of the userId or the displayName, ignoring case, ordered by userId', async () => {
    const p = prefix();
    await user(`${p}-Bob`);
    await user(`${p}-alice`);
    await user(`x${p}`, `${p.toUpperCase()} Carol`);
    await user(`${p}x`.slice(1)); // not a prefix match
    expect(await store.searchUsers(p.toUpperCase(), 10)).toEqual([
      { userId: `${p}-Bob`, displayName: `${p}-Bob` },
      { userId: `${p}-alice`, displayName: `${p}-alice` },
      { userId: `x${p}`, displayName: `${p.toUpperCase()} Carol` },
    ]);
    expect(await store.searchUsers(`${p}-A`, 10)).toEqual([{ userId: `${p}-alice`, displayName: `${p}-alice` }]);
  });

  it('stops at the limit, in userId order', async () => {
    const p = prefix();
    for (const n of [3, 1, 4, 2]) await user(`${p}-${n}`);
    expect((await store.searchUsers(p, 2)).map((u) => u.userId)).toEqual([`${p}-1`, `${p}-2`]);
  });

  it('takes %, _ and \\ as plain characters', async () => {
    const p = prefix();
    await user(`${p}-a`, `${p} 100% sure`);
    await user(`${p}-b`, `${p} 100x sure`);
    await user(`${p}-c`, `${p} a_b`);
    await user(`${p}-d`, `${p} aXb`);
    await user(`${p}-e`, `${p} back\\slash`);
    expect((await store.searchUsers(`${p} 100%`, 10)).map((u) => u.userId)).toEqual([`${p}-a`]);
    expect((await store.searchUsers(`${p} a_`, 10)).map((u) => u.userId)).toEqual([`${p}-c`]);
    expect((await store.searchUsers(`${p} back\\`, 10)).map((u) => u.userId)).toEqual([`${p}-e`]);
    expect(await store.searchUsers(`%${p}`, 10)).toEqual([]);
  });
});
