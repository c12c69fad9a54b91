import { Redis } from 'ioredis';
import { createMemoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store';
import { createRedisClient } from '../../src/adapters/redis/redis-client';
import { createRedisRevocationStore } from '../../src/adapters/redis/redis-revocation-store';
import { ChatError } from '../../src/domain/errors';
import type { RevocationStore } from '../../src/ports/revocation-store';
import { randomName, silentLogger } from '../support/infra';
import { openRedisHarness } from '../support/redis-harness';
import { redisScope } from '../support/redis-scope';

/**
 * The RevocationStore contract (src/ports/revocation-store.ts): logout on one instance
 * must be seen by every other. The in-memory store and the Redis store on the real Redis
 * run all of it; "another instance" is a second store object on the same storage.
 */
interface RevocationHarness {
  readonly store: RevocationStore;
  readonly other: RevocationStore;
  close(): Promise<void>;
}

const adapters: [string, () => Promise<RevocationHarness>][] = [
  [
    'memory',
    async () => {
      const store = createMemoryRevocationStore();
      return { store, other: store, close: async () => {} };
    },
  ],
  [
    'redis',
    async () => {
      const redis = await openRedisHarness('test-revoked');
      const prefix = redis.prefix();
      return {
        store: createRedisRevocationStore({ redis: redis.a, prefix }),
        other: createRedisRevocationStore({ redis: redis.b, prefix }),
        close: () => redis.close(),
      };
    },
  ],
];

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe.each(adapters)('RevocationStore contract: %s', (_name, makeHarness) => {
  let h: RevocationHarness;

  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers true on every instance once revoke resolves; revoke is idempotent', async () => {
    const jti = randomName('jti');
    expect(await h.other.isRevoked(jti)).toBe(false);
    await h.store.revoke(jti, nowSeconds() + 60);
    expect(await h.store.isRevoked(jti)).toBe(true);
    expect(await h.other.isRevoked(jti)).toBe(true);
    await h.other.revoke(jti, nowSeconds() + 60);
    expect(await h.store.isRevoked(jti)).toBe(true);
  });

  it('answers false for a token never revoked', async () => {
    expect(await h.store.isRevoked(randomName('jti'))).toBe(false);
  });

  it('ignores the revocation of a token that has already expired', async () => {
    const jti = randomName('jti');
    await h.store.revoke(jti, nowSeconds() - 1);
    expect(await h.store.isRevoked(jti)).toBe(false);
    expect(await h.other.isRevoked(jti)).toBe(false);
  });

  it('reports healthy', async () => {
    expect(await h.store.health()).toMatchObject({ ok: true });
  });
});

describe('Memory RevocationStore: forgets a revocation once the token would have expired', () => {
  it('answers false after the expiry', async () => {
    let clock = 1_900_000_000_000;
    const store = createMemoryRevocationStore({ now: () => clock });
    await store.revoke('jti-1', clock / 1000 + 60);
    clock += 59_000;
    expect(await store.isRevoked('jti-1')).toBe(true);
    clock += 1_000;
    expect(await store.isRevoked('jti-1')).toBe(false);
  });
});

describe('Redis RevocationStore specifics', () => {
  const scope = redisScope('test-revoked');
  const { prefix } = scope;
  let redis: Redis;
  beforeAll(() => {
    redis = scope.redis();
  });

  it('sets the key to expire when the token does, and writes nothing for an expired token', async () => {
    const store = createRedisRevocationStore({ redis, prefix });
    await store.revoke('live', nowSeconds() + 120);
    const ttl = await redis.ttl(`${prefix}live`);
    expect(ttl).toBeGreaterThanOrEqual(118);
    expect(ttl).toBeLessThanOrEqual(120);
    await store.revoke('expired', nowSeconds() - 1);
    expect(await redis.exists(`${prefix}expired`)).toBe(0);
  });

  it('fails closed: an unreachable Redis is a retriable error, never "not revoked"', async () => {
    const down = createRedisClient({ url: 'redis://127.0.0.1:1', logger: silentLogger() });
    const store = createRedisRevocationStore({ redis: down });
    try {
      for (const op of [() => store.isRevoked('jti'), () => store.revoke('jti', nowSeconds() + 60)]) {
        const error: unknown = await op().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ChatError);
        expect((error as ChatError).code).toBe('UNAVAILABLE');
        expect((error as ChatError).retriable).toBe(true);
      }
      expect(await store.health()).toMatchObject({ ok: false });
    } finally {
      down.disconnect();
    }
  });
});
