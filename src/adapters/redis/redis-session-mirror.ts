import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { MirroredSession, SessionMirror } from '../../ports/session-mirror';
import { redisCall, redisHealth } from './redis-call';

/** The value of one hash field. */
const StoredSession = z.object({ instanceId: z.string(), seenAt: z.number() });

/**
 * Sessions in Redis: one hash per user, `<prefix><userId>`, field = connectionId, value =
 * JSON `{instanceId, seenAt}`. Every `put` sets the field and `PEXPIRE`s the key in one
 * MULTI, so a user's entry vanishes `ttlMs` after the last put. `load` also drops fields
 * whose `seenAt` is `ttlMs` old or older (an instance that died while others kept the key
 * alive), and unreadable ones, deleting them from the hash.
 */
export function createRedisSessionMirror({
  redis,
  prefix = 'chat:sessions:',
  ttlMs,
  now = () => Date.now(),
}: {
  redis: Redis;
  /** Key prefix. Default 'chat:sessions:'. */
  prefix?: string;
  /** How long a user's key lives after the last put, and how old a seenAt may get. */
  ttlMs: number;
  /** Clock for the seenAt check. Default Date.now. */
  now?: () => number;
}): SessionMirror {
  const keyOf = (userId: string) => `${prefix}${userId}`;

  /** The session a field holds, or undefined when it is unreadable or too old. */
  const liveSession = (connectionId: string, value: string): MirroredSession | undefined => {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      return undefined;
    }
    const parsed = StoredSession.safeParse(json);
    if (!parsed.success || now() - parsed.data.seenAt >= ttlMs) return undefined;
    return { connectionId, instanceId: parsed.data.instanceId, seenAt: parsed.data.seenAt };
  };

  return {
    async put(userId, { connectionId, instanceId, seenAt }) {
      const key = keyOf(userId);
      await redisCall('put', async () => {
        const results = await redis.multi().hset(key, connectionId, JSON.stringify({ instanceId, seenAt })).pexpire(key, ttlMs).exec();
        if (results === null) throw new Error('MULTI aborted');
        for (const [error] of results) if (error !== null) throw error;
      });
    },
    async remove(userId, connectionId) {
      await redisCall('remove', () => redis.hdel(keyOf(userId), connectionId));
    },
    async load(userId) {
      const key = keyOf(userId);
      const fields = await redisCall('load', () => redis.hgetall(key));
      const live: MirroredSession[] = [];
      const stale: string[] = [];
      for (const [connectionId, value] of Object.entries(fields)) {
        const session = liveSession(connectionId, value);
        if (session === undefined) stale.push(connectionId);
        else live.push(session);
      }
      if (stale.length > 0) await redisCall('drop stale', () => redis.hdel(key, ...stale));
      return live.sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));
    },
    health: () => redisHealth(redis),
  };
}
