import { createMemoryRateWindow } from '../../src/adapters/memory/memory-rate-window';
import { createRedisRateWindow } from '../../src/adapters/redis/redis-rate-window';
import { createRedisClient } from '../../src/adapters/redis/redis-client';
import { ChatError } from '../../src/domain/errors';
import type { RateWindow, RateWindowLimits } from '../../src/ports/rate-window';
import { randomName, silentLogger, waitFor } from '../support/infra';
import { openRedisHarness } from '../support/redis-harness';

/**
 * The RateWindow contract (src/ports/rate-window.ts) against the in-memory adapter and the
 * Redis one on the real Redis. "Another instance" is a second window on the same storage
 * (for Redis, another connection).
 */
interface WindowHarness {
  make(limits: RateWindowLimits): { window: RateWindow; other: RateWindow; elapse(ms: number): Promise<void> };
  close(): Promise<void>;
}

const adapters: [string, () => Promise<WindowHarness>][] = [
  [
    'memory',
    async () => ({
      make: (limits) => {
        let now = Date.now();
        const window = createMemoryRateWindow({ limits, now: () => now });
        return { window, other: window, elapse: async (ms) => void (now += ms) };
      },
      close: async () => {},
    }),
  ],
  [
    'redis',
    async () => {
      const redis = await openRedisHarness('test-rate');
      return {
        make: (limits) => {
          const prefix = redis.prefix();
          return {
            window: createRedisRateWindow({ redis: redis.a, limits, prefix }),
            other: createRedisRateWindow({ redis: redis.b, limits, prefix }),
            // Redis keeps the window with its own clock: wait, bounded, until it ran out.
            elapse: async (ms) =>
              void (await waitFor('the window to end in Redis', async () => (await redis.keys(prefix)).length === 0, {
                timeoutMs: ms + 2_000,
                intervalMs: 25,
              })),
          };
        },
        close: () => redis.close(),
      };
    },
  ],
];

describe.each(adapters)('RateWindow contract: %s', (_name, open) => {
  let h: WindowHarness;
  beforeAll(async () => {
    h = await open();
  });
  afterAll(async () => {
    await h.close();
  });

  it('lets max hits through on any instance, then refuses with the rest of the window', async () => {
    const { window, other } = h.make({ max: 3, windowMs: 60_000 });
    expect(await window.hit('ip1')).toEqual({ allowed: true });
    expect(await other.hit('ip1')).toEqual({ allowed: true });
    expect(await window.hit('ip1')).toEqual({ allowed: true });
    const refused = await other.hit('ip1');
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) {
      expect(refused.retryAfterMs).toBeGreaterThan(50_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect(await window.hit('ip2')).toEqual({ allowed: true });
  });

  it('is atomic across instances: of many simultaneous hits exactly max pass', async () => {
    const { window, other } = h.make({ max: 5, windowMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? window : other).hit('ip')));
    expect(answers.filter((a) => a.allowed)).toHaveLength(5);
  });

  it('does not count a refused hit, and forgets the count when the window ends', async () => {
    const { window, elapse } = h.make({ max: 1, windowMs: 300 });
    expect(await window.hit('ip')).toEqual({ allowed: true });
    for (let i = 0; i < 5; i++) expect((await window.hit('ip')).allowed).toBe(false);
    await elapse(350);
    expect(await window.hit('ip')).toEqual({ allowed: true });
  });

  it('reports healthy', async () => {
    expect(await h.make({ max: 1, windowMs: 1_000 }).window.health()).toMatchObject({ ok: true });
  });
});

describe('Redis RateWindow specifics', () => {
  it('fails closed: an unreachable Redis is a retriable error, never "allowed"', async () => {
    const down = createRedisClient({ url: 'redis://127.0.0.1:1', logger: silentLogger() });
    const window = createRedisRateWindow({ redis: down, limits: { max: 5, windowMs: 60_000 }, prefix: `${randomName('down')}:` });
    const error = await window.hit('ip').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe('UNAVAILABLE');
    down.disconnect();
  });
});
