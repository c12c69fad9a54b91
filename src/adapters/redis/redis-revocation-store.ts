import type { Redis } from 'ioredis';
import type { RevocationStore } from '../../ports/revocation-store';
import { redisCall, redisHealth } from './redis-call';

/** Revocations in Redis: `SET <prefix><jti> 1 EX <seconds until expiry>`. */
export function createRedisRevocationStore({
  redis,
  prefix = 'chat:revoked:',
  now = () => Date.now(),
}: {
  redis: Redis;
  /** Key prefix. Default 'chat:revoked:'. */
  prefix?: string;
  now?: () => number;
}): RevocationStore {
  return {
    async revoke(jti, expiresAt) {
      const ttl = Math.ceil(expiresAt - now() / 1000);
      if (ttl <= 0) return;
      await redisCall('revoke', () => redis.set(`${prefix}${jti}`, '1', 'EX', ttl));
    },
    async isRevoked(jti) {
      return (await redisCall('lookup', () => redis.exists(`${prefix}${jti}`))) === 1;
    },
    health: () => redisHealth(redis),
  };
}
