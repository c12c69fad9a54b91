import type { Redis } from 'ioredis';
import { InstanceViewSchema, type InstanceView } from '../../protocol/instance-view';
import type { InstanceDirectory } from '../../ports/instance-directory';
import { redisCall } from './redis-call';

/**
 * The directory in Redis: one key per instance, `<prefix><instanceId>` = the view as JSON,
 * with `PX ttl`. Listing SCANs the prefix (never KEYS, which blocks Redis) and MGETs: a
 * handful of instances, read when someone looks at the admin page.
 */
export function createRedisInstanceDirectory({
  redis,
  prefix = 'chat:instances:',
  seenKey = 'chat:instance-seen',
  now = Date.now,
}: {
  redis: Redis;
  /** Key prefix. Default 'chat:instances:'. */
  prefix?: string;
  /**
   * The sorted set of last sightings (member: instance id, score: ms). Default
   * 'chat:instance-seen': outside `prefix`, which `list` scans for views.
   */
  seenKey?: string;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}): InstanceDirectory {
  return {
    kind: 'redis',
    async announce(view, ttlMs) {
      await redisCall('instance announce', () =>
        redis
          .multi()
          .set(`${prefix}${view.instanceId}`, JSON.stringify(view), 'PX', Math.max(1, Math.round(ttlMs)))
          .zadd(seenKey, now(), view.instanceId)
          .exec(),
      );
    },
    async lastSeen() {
      const flat = await redisCall('instance last seen', () => redis.zrange(seenKey, 0, -1, 'WITHSCORES'));
      const seen = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) seen.set(flat[i]!, Number(flat[i + 1]));
      return seen;
    },
    async noteSeen(instanceId, at) {
      await redisCall('instance note seen', () => redis.zadd(seenKey, 'NX', at, instanceId));
    },
    async forget(instanceId) {
      await redisCall('instance forget', () => redis.zrem(seenKey, instanceId));
    },
    async withdraw(instanceId) {
      await redisCall('instance withdraw', () => redis.del(`${prefix}${instanceId}`));
    },
    async list() {
      const keys = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await redisCall('instance scan', () => redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100));
        for (const k of batch) keys.add(k);
        cursor = next;
      } while (cursor !== '0');
      if (keys.size === 0) return [];
      const values = await redisCall('instance read', () => redis.mget(...keys));
      const views: InstanceView[] = [];
      for (const value of values) {
        if (value === null) continue; // expired between SCAN and MGET
        try {
          const parsed = InstanceViewSchema.safeParse(JSON.parse(value));
          if (parsed.success) views.push(parsed.data);
        } catch {
          // not JSON: someone else's key under our prefix; left out
        }
      }
      return views;
    },
  };
}
