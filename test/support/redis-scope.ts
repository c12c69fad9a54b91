import { Redis } from 'ioredis';
import { REDIS_URL, randomName, requireRedis } from './infra';

/**
 * A Redis connection for one describe block, with a key prefix of its own; the block's
 * keys are deleted and the connection closed afterwards. Fails loudly without Redis.
 */
export function redisScope(name: string): { readonly prefix: string; redis(): Redis } {
  const prefix = `${randomName(name)}:`;
  let redis: Redis | undefined;
  beforeAll(async () => {
    await requireRedis();
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    if (redis === undefined) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return {
    prefix,
    redis() {
      if (redis === undefined) throw new Error('redisScope: used outside a test');
      return redis;
    },
  };
}
