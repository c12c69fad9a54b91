import type { Redis } from 'ioredis';
import { UnavailableError } from '../../domain/errors';
import type { LoginSubject, LoginThrottle, LoginThrottleLimits } from '../../ports/login-throttle';
import { redisCall, redisHealth } from './redis-call';

/**
 * Check both limits and count the attempt in one step: a Lua script runs atomically in
 * Redis, so concurrent logins on different instances cannot both pass the last free
 * attempt (a GET-then-INCR from the client could). Fixed windows: INCR, and PEXPIRE when
 * the key is new (or somehow lost its expiry, so no count lives for ever).
 * KEYS: account, ip. ARGV: maxPerAccount, maxPerIp, windowMs.
 * Returns {1} when counted, or {0, scopeIndex (1 account, 2 ip), retryAfterMs}.
 */
const ACQUIRE = `
local window = tonumber(ARGV[3])
local best_scope, best_ttl = 0, 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = window end
    if ttl > best_ttl then best_scope, best_ttl = i, ttl end
  end
end
if best_scope > 0 then return {0, best_scope, best_ttl} end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
end
return {1}
`;

/**
 * Gives attempts back: KEYS[1..n] are decremented when they hold a positive count (an
 * ended window is not revived, a count never goes below zero); with ARGV[1] = 'reset',
 * KEYS[1] is deleted instead.
 */
const GIVE_BACK = `
for i, key in ipairs(KEYS) do
  if i == 1 and ARGV[1] == 'reset' then
    redis.call('DEL', key)
  elseif tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 1
`;

/** Login throttling in Redis (fixed windows), shared by every instance on the same Redis. */
export function createRedisLoginThrottle({
  redis,
  limits,
  prefix = 'chat:login:',
}: {
  redis: Redis;
  limits: LoginThrottleLimits;
  /** Key prefix. Default 'chat:login:'. */
  prefix?: string;
}): LoginThrottle {
  const keys = (s: LoginSubject): [string, string] => [`${prefix}acct:${s.userId}`, `${prefix}ip:${s.ip}`];
  return {
    async acquire(subject) {
      const reply = await redisCall('login throttle', () =>
        redis.eval(ACQUIRE, 2, ...keys(subject), limits.maxPerAccount, limits.maxPerIp, limits.windowMs),
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw new UnavailableError('redis login throttle: unexpected reply');
      if (reply[0] === 1) return { allowed: true };
      return { allowed: false, scope: reply[1] === 1 ? 'account' : 'ip', retryAfterMs: Math.max(1, Number(reply[2])) };
    },
    async succeeded(subject) {
      await redisCall('login throttle reset', () => redis.eval(GIVE_BACK, 2, ...keys(subject), 'reset'));
    },
    async release(subject) {
      await redisCall('login throttle release', () => redis.eval(GIVE_BACK, 2, ...keys(subject), 'give-back'));
    },
    health: () => redisHealth(redis),
  };
}
