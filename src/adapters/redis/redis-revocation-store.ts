import type { Redis } from 'ioredis';
import { UnavailableError } from '../../domain/errors';
import type { RevocationStore } from '../../ports/revocation-store';

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
  const wrap = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw new UnavailableError(`redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  };
  return {
    async revoke(jti, expiresAt) {
      const ttl = Math.ceil(expiresAt - now() / 1000);
      if (ttl <= 0) return;
      await wrap('revoke', () => redis.set(`${prefix}${jti}`, '1', 'EX', ttl));
    },
    async isRevoked(jti) {
      return (await wrap('lookup', () => redis.exists(`${prefix}${jti}`))) === 1;
    },
    async health() {
      try {
        await redis.ping();
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
