import type { Redis } from 'ioredis';
import type { RateWindow, RateWindowLimits } from '../../ports/rate-window';
import { UnavailableError } from '../../domain/errors';
import { redisCall, redisHealth } from './redis-call';

/**
 * Check and count in one step (a Lua script runs atomically, so hits on different instances
 * cannot both take the last free one). A full window answers its remaining PTTL and counts
 * nothing; a key that somehow lost its expiry gets the window again.
 * KEYS: the key. ARGV: max, windowMs. Returns {1} when counted, {0, retryAfterMs} when full.
 */
const HIT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
  return {0, ttl}
end
if redis.call('INCR', KEYS[1]) == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1}
`;

/** RateWindow in Redis (fixed windows), shared by every instance on the same Redis. */
export function createRedisRateWindow({
  redis,
  limits,
  prefix,
}: {
  redis: Redis;
  limits: RateWindowLimits;
  /** Key prefix, naming what is counted (e.g. 'chat:register:ip:'). */
  prefix: string;
}): RateWindow {
  return {
    async hit(key) {
      const answer = await redisCall('rate window', () => redis.eval(HIT, 1, `${prefix}${key}`, limits.max, limits.windowMs));
      if (Array.isArray(answer) && answer[0] === 1) return { allowed: true };
      if (Array.isArray(answer) && answer[0] === 0) return { allowed: false, retryAfterMs: Math.max(1, Number(answer[1])) };
      // Fail closed: an answer this script cannot give is not a pass.
      throw new UnavailableError(`redis rate window: unexpected answer ${JSON.stringify(answer)}`);
    },
    health: () => redisHealth(redis),
  };
}
