import { Redis } from 'ioredis';
import { createMemoryLoginThrottle } from '../../src/adapters/memory/memory-login-throttle';
import { createRedisClient } from '../../src/adapters/redis/redis-client';
import { createRedisLoginThrottle } from '../../src/adapters/redis/redis-login-throttle';
import { ChatError } from '../../src/domain/errors';
import type { LoginSubject, LoginThrottle, LoginThrottleLimits } from '../../src/ports/login-throttle';
import { randomName, silentLogger, waitFor } from '../support/infra';
import { openRedisHarness } from '../support/redis-harness';
import { redisScope } from '../support/redis-scope';

/**
 * The LoginThrottle contract (src/ports/login-throttle.ts), run against the in-memory
 * adapter and the Redis one on the real Redis. "Another instance" is a second throttle
 * object on the same storage (for Redis, another connection).
 */
interface ThrottleHarness {
  /** `elapse(ms)`: the window's clock moves on by ms (memory: an injected clock; Redis: its own TTLs run out, waited for with a bound). */
  make(limits: LoginThrottleLimits): { throttle: LoginThrottle; other: LoginThrottle; elapse(ms: number): Promise<void> };
  close(): Promise<void>;
}

const adapters: [string, () => Promise<ThrottleHarness>][] = [
  [
    'memory',
    async () => ({
      make: (limits) => {
        let now = Date.now();
        const throttle = createMemoryLoginThrottle({ limits, now: () => now });
        return { throttle, other: throttle, elapse: async (ms) => void (now += ms) };
      },
      close: async () => {},
    }),
  ],
  [
    'redis',
    async () => {
      const redis = await openRedisHarness('test-login');
      return {
        make: (limits) => {
          // A prefix per throttle, so "its keys have expired" means this test's keys.
          const prefix = redis.prefix();
          const elapse = async (ms: number): Promise<void> => {
            // Redis keeps the window with its own clock (PEXPIRE): wait, bounded, until it ran out.
            await waitFor('the window to end in Redis', async () => (await redis.keys(prefix)).length === 0, {
              timeoutMs: ms + 2_000,
              intervalMs: 25,
            });
          };
          return {
            throttle: createRedisLoginThrottle({ redis: redis.a, limits, prefix }),
            other: createRedisLoginThrottle({ redis: redis.b, limits, prefix }),
            elapse,
          };
        },
        close: () => redis.close(),
      };
    },
  ],
];

const subject = (over: Partial<LoginSubject> = {}): LoginSubject => ({ userId: randomName('u'), ip: randomName('ip'), ...over });

describe.each(adapters)('LoginThrottle contract: %s', (_name, makeHarness) => {
  let h: ThrottleHarness;

  beforeAll(async () => {
    h = await makeHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets maxPerAccount attempts on an account through, on any instance, then refuses with the rest of the window', async () => {
    const { throttle, other } = h.make({ maxPerAccount: 3, maxPerIp: 100, windowMs: 60_000 });
    const userId = randomName('u');
    expect(await throttle.acquire(subject({ userId }))).toEqual({ allowed: true });
    expect(await other.acquire(subject({ userId }))).toEqual({ allowed: true });
    expect(await throttle.acquire(subject({ userId }))).toEqual({ allowed: true });
    const refused = await other.acquire(subject({ userId }));
    expect(refused).toMatchObject({ allowed: false, scope: 'account' });
    if (refused.allowed) return;
    expect(refused.retryAfterMs).toBeGreaterThan(55_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Another account is not affected.
    expect(await other.acquire(subject())).toEqual({ allowed: true });
  });

  it('limits an IP over every account', async () => {
    const { throttle, other } = h.make({ maxPerAccount: 100, maxPerIp: 4, windowMs: 60_000 });
    const ip = randomName('ip');
    for (let i = 0; i < 4; i++) expect(await (i % 2 === 0 ? throttle : other).acquire(subject({ ip }))).toEqual({ allowed: true });
    expect(await throttle.acquire(subject({ ip }))).toMatchObject({ allowed: false, scope: 'ip' });
    expect(await throttle.acquire(subject())).toEqual({ allowed: true });
  });

  it('counts nothing when it refuses: a full IP does not use up the account’s attempts', async () => {
    const { throttle } = h.make({ maxPerAccount: 2, maxPerIp: 1, windowMs: 60_000 });
    const userId = randomName('u');
    const ip = randomName('ip');
    expect(await throttle.acquire({ userId: randomName('u'), ip })).toEqual({ allowed: true });
    for (let i = 0; i < 5; i++) expect(await throttle.acquire({ userId, ip })).toMatchObject({ allowed: false, scope: 'ip' });
    expect(await throttle.acquire({ userId, ip: randomName('ip') })).toEqual({ allowed: true });
    expect(await throttle.acquire({ userId, ip: randomName('ip') })).toEqual({ allowed: true });
    expect(await throttle.acquire({ userId, ip: randomName('ip') })).toMatchObject({ allowed: false, scope: 'account' });
  });

  it('is atomic across instances: of many simultaneous attempts exactly the limit pass', async () => {
    const { throttle, other } = h.make({ maxPerAccount: 10, maxPerIp: 1_000, windowMs: 60_000 });
    const userId = randomName('u');
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? throttle : other).acquire(subject({ userId }))));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });

  it('succeeded clears the account and gives the IP its attempt back', async () => {
    const { throttle, other } = h.make({ maxPerAccount: 2, maxPerIp: 2, windowMs: 60_000 });
    const s = subject();
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
    expect(await throttle.acquire(s)).toMatchObject({ allowed: false });
    await other.succeeded(s);
    // Account cleared (2 more), IP given one back (1 more).
    expect(await throttle.acquire({ ...s, ip: randomName('ip') })).toEqual({ allowed: true });
    expect(await throttle.acquire({ ...s, ip: randomName('ip') })).toEqual({ allowed: true });
    expect(await throttle.acquire({ ...s, ip: randomName('ip') })).toMatchObject({ allowed: false, scope: 'account' });
    expect(await throttle.acquire({ userId: randomName('u'), ip: s.ip })).toEqual({ allowed: true });
    expect(await throttle.acquire({ userId: randomName('u'), ip: s.ip })).toMatchObject({ allowed: false, scope: 'ip' });
  });

  it('release gives both their attempt back, never below zero', async () => {
    const { throttle, other } = h.make({ maxPerAccount: 1, maxPerIp: 1, windowMs: 60_000 });
    const s = subject();
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
    expect(await throttle.acquire(s)).toMatchObject({ allowed: false });
    await other.release(s);
    await other.release(s);
    await other.release(s);
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
    expect(await throttle.acquire(s)).toMatchObject({ allowed: false });
    // Releasing what was never counted creates nothing.
    const fresh = subject();
    await throttle.release(fresh);
    await throttle.succeeded(fresh);
    expect(await throttle.acquire(fresh)).toEqual({ allowed: true });
    expect(await throttle.acquire(fresh)).toMatchObject({ allowed: false });
  });

  it('forgets the count when the window ends', async () => {
    const { throttle, elapse } = h.make({ maxPerAccount: 1, maxPerIp: 10, windowMs: 300 });
    const s = subject();
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
    const refused = await throttle.acquire(s);
    expect(refused).toMatchObject({ allowed: false });
    if (!refused.allowed) expect(refused.retryAfterMs).toBeLessThanOrEqual(300);
    await elapse(350);
    expect(await throttle.acquire(s)).toEqual({ allowed: true });
  });

  it('reports healthy', async () => {
    expect(await h.make({ maxPerAccount: 1, maxPerIp: 1, windowMs: 1_000 }).throttle.health()).toMatchObject({ ok: true });
  });
});

describe('Redis LoginThrottle specifics', () => {
  const scope = redisScope('test-login');
  const { prefix } = scope;
  let redis: Redis;
  beforeAll(() => {
    redis = scope.redis();
  });

  it('keeps its counts in keys that expire with the window', async () => {
    const throttle = createRedisLoginThrottle({ redis, limits: { maxPerAccount: 5, maxPerIp: 5, windowMs: 900_000 }, prefix });
    await throttle.acquire({ userId: 'alice', ip: '198.51.100.7' });
    expect(await redis.get(`${prefix}acct:alice`)).toBe('1');
    expect(await redis.get(`${prefix}ip:198.51.100.7`)).toBe('1');
    const ttl = await redis.pttl(`${prefix}acct:alice`);
    expect(ttl).toBeGreaterThan(890_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });

  it('repairs a count that lost its expiry, so no key lives for ever', async () => {
    const throttle = createRedisLoginThrottle({ redis, limits: { maxPerAccount: 1, maxPerIp: 5, windowMs: 60_000 }, prefix });
    await redis.set(`${prefix}acct:bob`, '7');
    expect(await throttle.acquire({ userId: 'bob', ip: '198.51.100.8' })).toMatchObject({
      allowed: false,
      scope: 'account',
      retryAfterMs: 60_000,
    });
    expect(await redis.pttl(`${prefix}acct:bob`)).toBeGreaterThan(0);
  });

  it('fails closed: an unreachable Redis is a retriable error, never "allowed"', async () => {
    const down = createRedisClient({ url: 'redis://127.0.0.1:1', logger: silentLogger() });
    const throttle = createRedisLoginThrottle({ redis: down, limits: { maxPerAccount: 5, maxPerIp: 5, windowMs: 60_000 } });
    try {
      for (const op of [() => throttle.acquire(subject()), () => throttle.succeeded(subject()), () => throttle.release(subject())]) {
        const error: unknown = await op().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ChatError);
        expect((error as ChatError).code).toBe('UNAVAILABLE');
        expect((error as ChatError).retriable).toBe(true);
      }
      expect(await throttle.health()).toMatchObject({ ok: false });
    } finally {
      down.disconnect();
    }
  });
});
