import { Redis } from 'ioredis';
import { REDIS_URL, randomName, requireRedis } from './infra';

/**
 * The Redis side of a contract suite: two connections to the real Redis (one per
 * "instance", so what one writes the other must see through the server, not a shared
 * client), key prefixes of the suite's own, and a clean-up that deletes every key under
 * them and closes both connections. Fails loudly without Redis.
 */
export interface RedisHarness {
  /** "This instance"'s connection. */
  readonly a: Redis;
  /** "Another instance"'s connection. */
  readonly b: Redis;
  /** A fresh key prefix (ending in ':'), deleted by close(). */
  prefix(): string;
  /** The keys under a prefix this harness made. */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function openRedisHarness(name: string): Promise<RedisHarness> {
  await requireRedis();
  const a = new Redis(REDIS_URL);
  const b = new Redis(REDIS_URL);
  const base = randomName(name);
  let made = 0;
  const keys = (prefix: string): Promise<string[]> => a.keys(`${prefix}*`);
  return {
    a,
    b,
    prefix: () => `${base}:${made++}:`,
    keys,
    async close() {
      const left = await a.keys(`${base}:*`);
      if (left.length > 0) await a.del(...left);
      await a.quit();
      await b.quit();
    },
  };
}
