import { Redis } from 'ioredis';
import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { createRedisClient } from '../../src/adapters/redis/redis-client';
import { createRedisSessionMirror } from '../../src/adapters/redis/redis-session-mirror';
import { UnavailableError } from '../../src/domain/errors';
import type { SessionMirror } from '../../src/ports/session-mirror';
import { silentLogger } from '../support/infra';
import { openRedisHarness } from '../support/redis-harness';
import { redisScope } from '../support/redis-scope';

/**
 * The SessionMirror contract (src/ports/session-mirror.ts): what a new owner relies on
 * after a rebalance. The in-memory mirror and the Redis mirror on the real Redis both run
 * all of it. Time is a fake clock, so nothing sleeps; Redis's own key expiry (PEXPIRE)
 * runs on real time, so its TTL is checked with PTTL.
 */
const TTL_MS = 60_000;
const T0 = 1_900_000_000_000;

interface MirrorHarness {
  /** A mirror on fresh storage, with the given clock. */
  make(now: () => number): SessionMirror;
  close(): Promise<void>;
}

const adapters: [string, () => Promise<MirrorHarness>][] = [
  ['memory', async () => ({ make: (now) => createMemorySessionMirror({ ttlMs: TTL_MS, now }), close: async () => {} })],
  [
    'redis',
    async () => {
      const redis = await openRedisHarness('test-sessions');
      return {
        make: (now) => createRedisSessionMirror({ redis: redis.a, prefix: redis.prefix(), ttlMs: TTL_MS, now }),
        close: () => redis.close(),
      };
    },
  ],
];

const session = (connectionId: string, seenAt = T0, instanceId = 'gw-1') => ({ connectionId, instanceId, seenAt });

describe.each(adapters)('SessionMirror contract: %s', (_name, makeHarness) => {
  let h: MirrorHarness;
  let clock: number;
  let mirror: SessionMirror;

  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    clock = T0;
    mirror = h.make(() => clock);
  });

  it('loads what put left, sorted by connectionId; nothing for an unknown user', async () => {
    await mirror.put('alice', session('c2', T0, 'gw-2'), 0);
    await mirror.put('alice', session('c1'), 0);
    expect(await mirror.load('alice')).toEqual([session('c1'), session('c2', T0, 'gw-2')]);
    expect(await mirror.load('nobody')).toEqual([]);
  });

  it('put is idempotent and replaces a connection’s entry; remove is idempotent', async () => {
    await mirror.put('alice', session('c1'), 0);
    await mirror.put('alice', session('c1'), 0);
    expect(await mirror.load('alice')).toEqual([session('c1')]);
    // A re-announce (or a move to another instance) replaces the entry.
    clock = T0 + 1_000;
    await mirror.put('alice', session('c1', T0 + 1_000, 'gw-2'), 0);
    expect(await mirror.load('alice')).toEqual([session('c1', T0 + 1_000, 'gw-2')]);
    await mirror.put('alice', session('c2', T0 + 1_000), 0);
    await mirror.remove('alice', 'c1');
    await mirror.remove('alice', 'c1');
    expect(await mirror.load('alice')).toEqual([session('c2', T0 + 1_000)]);
    await mirror.remove('alice', 'c2');
    expect(await mirror.load('alice')).toEqual([]);
    await mirror.remove('nobody', 'c1');
  });

  it('keeps users apart, even with equal connection ids', async () => {
    await mirror.put('alice', session('c1', T0, 'gw-a'), 0);
    await mirror.put('bob', session('c1', T0, 'gw-b'), 0);
    await mirror.put('bob', session('c2', T0, 'gw-b'), 0);
    await mirror.remove('alice', 'c1');
    expect(await mirror.load('alice')).toEqual([]);
    expect(await mirror.load('bob')).toEqual([session('c1', T0, 'gw-b'), session('c2', T0, 'gw-b')]);
  });

  it('drops a session ttlMs after it was last seen, for good, while re-announced ones live on', async () => {
    await mirror.put('alice', session('dead'), 0);
    await mirror.put('alice', session('live'), 0);
    clock = T0 + TTL_MS - 1;
    expect((await mirror.load('alice')).map((s) => s.connectionId)).toEqual(['dead', 'live']);
    // Only the live gateway re-announces its session.
    await mirror.put('alice', session('live', clock), 0);
    clock = T0 + TTL_MS;
    expect(await mirror.load('alice')).toEqual([session('live', T0 + TTL_MS - 1)]);
    // It was deleted, not just hidden: going back in time does not bring it back.
    clock = T0;
    expect(await mirror.load('alice')).toEqual([session('live', T0 + TTL_MS - 1)]);
  });

  it('forgets all of a user’s sessions ttlMs after the last put', async () => {
    await mirror.put('alice', session('c1'), 0);
    await mirror.put('bob', session('c1'), 0);
    clock = T0 + TTL_MS;
    expect(await mirror.load('alice')).toEqual([]);
    await mirror.put('alice', session('c2', clock), 0);
    expect(await mirror.load('alice')).toEqual([session('c2', clock)]);
    expect(await mirror.load('bob')).toEqual([]);
  });

  it('loads a whole partition: every user last put under it, with what load would return', async () => {
    await mirror.put('alice', session('a2', T0, 'gw-2'), 3);
    await mirror.put('alice', session('a1'), 3);
    await mirror.put('bob', session('b1'), 3);
    await mirror.put('carol', session('c1'), 4);
    expect(await mirror.loadPartition(3)).toEqual(
      new Map([
        ['alice', [session('a1'), session('a2', T0, 'gw-2')]],
        ['bob', [session('b1')]],
      ]),
    );
    expect(await mirror.loadPartition(4)).toEqual(new Map([['carol', [session('c1')]]]));
    expect(await mirror.loadPartition(5)).toEqual(new Map());
  });

  it('leaves out of a partition the users with no live session: all removed, too old, or expired', async () => {
    await mirror.put('alice', session('a1'), 1);
    await mirror.put('bob', session('b1'), 1);
    await mirror.put('carol', session('c1'), 1);
    await mirror.remove('alice', 'a1');
    clock = T0 + TTL_MS - 1;
    await mirror.put('carol', session('c2', clock), 1);
    clock = T0 + TTL_MS;
    expect(await mirror.loadPartition(1)).toEqual(new Map([['carol', [session('c2', T0 + TTL_MS - 1)]]]));
    clock = T0 + 2 * TTL_MS;
    expect(await mirror.loadPartition(1)).toEqual(new Map());
  });

  it('looks up many users at once: their live sessions, nobody without one, duplicates once', async () => {
    await mirror.put('alice', session('a2', T0, 'gw-2'), 3);
    await mirror.put('alice', session('a1'), 3);
    await mirror.put('bob', session('b1', T0, 'gw-3'), 9);
    await mirror.put('carol', session('c1'), 4);
    await mirror.remove('carol', 'c1');
    expect(await mirror.lookup(['alice', 'bob', 'carol', 'nobody', 'alice'])).toEqual(
      new Map([
        ['alice', [session('a1'), session('a2', T0, 'gw-2')]],
        ['bob', [session('b1', T0, 'gw-3')]],
      ]),
    );
    expect(await mirror.lookup([])).toEqual(new Map());
  });

  it('lookup leaves out sessions ttlMs old, and deletes nothing (only the owner writes)', async () => {
    await mirror.put('alice', session('old'), 0);
    clock = T0 + 1_000;
    await mirror.put('alice', session('new', clock), 0);
    clock = T0 + TTL_MS;
    expect(await mirror.lookup(['alice'])).toEqual(new Map([['alice', [session('new', T0 + 1_000)]]]));
    // Still there for the owner's own load (which is what prunes): the lookup wrote nothing.
    clock = T0 + TTL_MS - 1;
    expect((await mirror.lookup(['alice'])).get('alice')?.map((s) => s.connectionId)).toEqual(['new', 'old']);
  });

  it('reports healthy', async () => {
    expect(await mirror.health()).toMatchObject({ ok: true });
  });
});

describe('memory SessionMirror specifics', () => {
  it('refuses lookups, retriably, when it is not the cluster’s directory (Kafka without Redis)', async () => {
    const mirror = createMemorySessionMirror({ ttlMs: TTL_MS, directory: false });
    await mirror.put('alice', session('c1'), 0);
    const error: unknown = await mirror.lookup(['alice']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retriable).toBe(true);
    expect(await mirror.load('alice')).toEqual([session('c1')]);
  });
});

describe('Redis SessionMirror specifics', () => {
  const scope = redisScope('test-sessions');
  const { prefix } = scope;
  let redis: Redis;
  beforeAll(() => {
    redis = scope.redis();
  });

  it('keeps a hash per user (field = connectionId, value = JSON) whose PTTL every put renews', async () => {
    const mirror = createRedisSessionMirror({ redis, prefix, ttlMs: TTL_MS });
    const seenAt = Date.now();
    await mirror.put('alice', { connectionId: 'c1', instanceId: 'gw-1', seenAt }, 0);
    expect(await redis.hgetall(`${prefix}alice`)).toEqual({ c1: JSON.stringify({ instanceId: 'gw-1', seenAt }) });
    const pttl = await redis.pttl(`${prefix}alice`);
    expect(pttl).toBeGreaterThan(TTL_MS - 5_000);
    expect(pttl).toBeLessThanOrEqual(TTL_MS);
    await redis.pexpire(`${prefix}alice`, 5_000);
    await mirror.put('alice', { connectionId: 'c2', instanceId: 'gw-1', seenAt }, 0);
    expect(await redis.pttl(`${prefix}alice`)).toBeGreaterThan(TTL_MS - 5_000);
  });

  it('drops and deletes unreadable entries on load', async () => {
    const mirror = createRedisSessionMirror({ redis, prefix, ttlMs: TTL_MS });
    const seenAt = Date.now();
    await mirror.put('bob', { connectionId: 'good', instanceId: 'gw-1', seenAt }, 0);
    await redis.hset(`${prefix}bob`, 'garbage', 'not json', 'wrong-shape', JSON.stringify({ instanceId: 7 }));
    expect(await mirror.load('bob')).toEqual([{ connectionId: 'good', instanceId: 'gw-1', seenAt }]);
    expect(await redis.hkeys(`${prefix}bob`)).toEqual(['good']);
  });

  it('indexes users by partition in a sorted set scored by expiry, trimmed on loadPartition', async () => {
    const mirror = createRedisSessionMirror({ redis, prefix, ttlMs: TTL_MS });
    const seenAt = Date.now();
    await mirror.put('dave', { connectionId: 'd1', instanceId: 'gw-1', seenAt }, 7);
    await mirror.put('erin', { connectionId: 'e1', instanceId: 'gw-1', seenAt }, 7);
    expect(await redis.zrange(`${prefix}@partition:7`, 0, -1)).toEqual(['dave', 'erin']);
    expect(Number(await redis.zscore(`${prefix}@partition:7`, 'dave'))).toBeGreaterThan(seenAt + TTL_MS - 5_000);
    expect(await redis.pttl(`${prefix}@partition:7`)).toBeGreaterThan(TTL_MS - 5_000);
    await mirror.remove('erin', 'e1');
    expect([...(await mirror.loadPartition(7)).keys()]).toEqual(['dave']);
    expect(await redis.zrange(`${prefix}@partition:7`, 0, -1)).toEqual(['dave']);
  });

  it('refuses lookups until rebuildMs after the store was found empty (a Redis that lost its data)', async () => {
    let clock = T0;
    const own = `${prefix}rebuild:`;
    const mirror = createRedisSessionMirror({ redis, prefix: own, ttlMs: TTL_MS, rebuildMs: 5_000, now: () => clock });
    await expect(mirror.lookup(['alice'])).rejects.toBeInstanceOf(UnavailableError);
    await mirror.put('alice', { connectionId: 'c1', instanceId: 'gw-1', seenAt: T0 }, 0);
    clock = T0 + 4_999;
    const early = await mirror.lookup(['alice']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(early).toBeInstanceOf(UnavailableError);
    expect((early as UnavailableError).retriable).toBe(true);
    clock = T0 + 5_000;
    expect(await mirror.lookup(['alice'])).toEqual(new Map([['alice', [{ connectionId: 'c1', instanceId: 'gw-1', seenAt: T0 }]]]));
    // Later puts do not move the clock; losing the data does.
    await mirror.put('alice', { connectionId: 'c1', instanceId: 'gw-1', seenAt: clock }, 0);
    expect((await mirror.lookup(['alice'])).size).toBe(1);
    await redis.del(...(await redis.keys(`${own}*`)));
    await mirror.put('alice', { connectionId: 'c1', instanceId: 'gw-1', seenAt: clock }, 0);
    await expect(mirror.lookup(['alice'])).rejects.toBeInstanceOf(UnavailableError);
  });

  it('turns an unreachable Redis into a retriable UnavailableError', async () => {
    const down = createRedisClient({ url: 'redis://127.0.0.1:1', logger: silentLogger() });
    const mirror = createRedisSessionMirror({ redis: down, ttlMs: TTL_MS });
    try {
      for (const op of [
        () => mirror.put('alice', session('c1'), 0),
        () => mirror.load('alice'),
        () => mirror.remove('alice', 'c1'),
        () => mirror.loadPartition(0),
        () => mirror.lookup(['alice']),
      ]) {
        const error: unknown = await op().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnavailableError);
        expect((error as UnavailableError).retriable).toBe(true);
      }
      expect(await mirror.health()).toMatchObject({ ok: false });
    } finally {
      down.disconnect();
    }
  });
});
