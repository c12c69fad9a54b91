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
}: {
  redis: Redis;
  /** Key prefix. Default 'chat:instances:'. */
  prefix?: string;
}): InstanceDirectory {
  return {
    kind: 'redis',
    async announce(view, ttlMs) {
      await redisCall('instance announce', () =>
        redis.set(`${prefix}${view.instanceId}`, JSON.stringify(view), 'PX', Math.max(1, Math.round(ttlMs))),
      );
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
