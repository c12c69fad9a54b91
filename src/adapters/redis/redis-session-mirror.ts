import type { ChainableCommander, Redis } from 'ioredis';
import { z } from 'zod';
import { byConnectionId, type MirroredSession, type SessionMirror } from '../../ports/session-mirror';
import { UnavailableError } from '../../domain/errors';
import { redisCall, redisHealth } from './redis-call';

/** The value of one hash field. */
const StoredSession = z.object({ instanceId: z.string(), seenAt: z.number() });

/** What HGETALL answers. */
const HashFields = z.record(z.string(), z.string());

/** How many users' hashes one round trip of loadPartition reads. */
const LOAD_CHUNK = 500;

/**
 * Sessions in Redis: one hash per user, `<prefix><userId>`, field = connectionId, value =
 * JSON `{instanceId, seenAt}`. Every `put` sets the field and `PEXPIRE`s the key in one
 * MULTI, so a user's entry vanishes `ttlMs` after the last put. `load` also drops fields
 * whose `seenAt` is `ttlMs` old or older (an instance that died while others kept the key
 * alive), and unreadable ones, deleting them from the hash.
 *
 * Completeness marker: every `put` also sets `<prefix>@since` (if missing) to the time; a
 * Redis that lost its data has lost it too, so its first put after the loss starts the
 * clock again. `lookup` refuses (UnavailableError) until `rebuildMs` have passed since then,
 * time for every gateway to re-announce its live sockets.
 *
 * Partition index: the same MULTI adds the user to a sorted set per partition,
 * `<prefix>@partition:<p>` (userIds cannot contain `@` or `:`, so it never meets a user's
 * key), scored with the time the user's hash expires; the set's own TTL is renewed too.
 * `loadPartition` trims expired members, reads the hashes of the rest in chunks of
 * pipelined HGETALLs, and removes members left with no live session (their last socket
 * closed: `remove` does not touch the index, so a close costs one command as before).
 */
/** The mirror's default key prefix. */
export const SESSION_MIRROR_PREFIX = 'chat:sessions:';

/** The completeness marker's key under `prefix` (see above). */
export const sessionMirrorSinceKey = (prefix: string = SESSION_MIRROR_PREFIX): string => `${prefix}@since`;

/**
 * How long a fresh store stays untrusted: two re-announce periods, so a gateway whose
 * announce ran just before the loss has announced again (with room for one late timer).
 */
export const sessionMirrorRebuildMs = (reannounceMs: number): number => 2 * reannounceMs;

export function createRedisSessionMirror({
  redis,
  prefix = SESSION_MIRROR_PREFIX,
  ttlMs,
  rebuildMs = 0,
  now = () => Date.now(),
}: {
  redis: Redis;
  /** Key prefix. Default 'chat:sessions:'. */
  prefix?: string;
  /** How long a user's key lives after the last put, and how old a seenAt may get. */
  ttlMs: number;
  /**
   * How long after the store was found empty `lookup` refuses: at least one re-announce
   * period (the app passes sessionMirrorRebuildMs(SESSION_REANNOUNCE_MS)). Default 0 (trust it at once).
   */
  rebuildMs?: number;
  /** Clock for the seenAt check. Default Date.now. */
  now?: () => number;
}): SessionMirror {
  const keyOf = (userId: string) => `${prefix}${userId}`;
  const indexOf = (partition: number) => `${prefix}@partition:${partition}`;
  const sinceKey = sessionMirrorSinceKey(prefix);

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

  /** The live sessions of a user's hash fields, deleting the stale and unreadable ones. */
  const liveOf = async (userId: string, fields: Record<string, string>): Promise<MirroredSession[]> => {
    const live: MirroredSession[] = [];
    const stale: string[] = [];
    for (const [connectionId, value] of Object.entries(fields)) {
      const session = liveSession(connectionId, value);
      if (session === undefined) stale.push(connectionId);
      else live.push(session);
    }
    if (stale.length > 0) await redisCall('drop stale', () => redis.hdel(keyOf(userId), ...stale));
    return live.sort(byConnectionId);
  };

  /** One round trip: `first` (if any) then HGETALL of each user; the replies in that order. */
  const pipelined = (what: string, userIds: readonly string[], first?: (p: ChainableCommander) => ChainableCommander): Promise<unknown[]> =>
    redisCall(what, async () => {
      const replies = await userIds
        .reduce((p, userId) => p.hgetall(keyOf(userId)), first === undefined ? redis.pipeline() : first(redis.pipeline()))
        .exec();
      if (replies === null) throw new Error('pipeline aborted');
      return replies.map(([error, value]) => {
        if (error !== null) throw error;
        return value;
      });
    });

  /** Every user's hash fields, one pipelined round trip per LOAD_CHUNK users. */
  const readHashes = async (what: string, userIds: readonly string[]): Promise<Record<string, string>[]> => {
    const out: Record<string, string>[] = [];
    for (let i = 0; i < userIds.length; i += LOAD_CHUNK) {
      out.push(...(await pipelined(what, userIds.slice(i, i + LOAD_CHUNK))).map((fields) => HashFields.parse(fields)));
    }
    return out;
  };

  return {
    async put(userId, { connectionId, instanceId, seenAt }, partition) {
      const key = keyOf(userId);
      const index = indexOf(partition);
      await redisCall('put', async () => {
        const results = await redis
          .multi()
          .hset(key, connectionId, JSON.stringify({ instanceId, seenAt }))
          .pexpire(key, ttlMs)
          .zadd(index, now() + ttlMs, userId)
          .pexpire(index, ttlMs)
          .set(sinceKey, String(now()), 'NX')
          .exec();
        if (results === null) throw new Error('MULTI aborted');
        for (const [error] of results) if (error !== null) throw error;
      });
    },
    async remove(userId, connectionId) {
      await redisCall('remove', () => redis.hdel(keyOf(userId), connectionId));
    },
    async load(userId) {
      const fields = await redisCall('load', () => redis.hgetall(keyOf(userId)));
      return liveOf(userId, fields);
    },
    async loadPartition(partition) {
      const index = indexOf(partition);
      await redisCall('trim partition index', () => redis.zremrangebyscore(index, '-inf', now()));
      const userIds = await redisCall('read partition index', () => redis.zrange(index, 0, -1));
      const out = new Map<string, MirroredSession[]>();
      const gone: string[] = [];
      const hashes = await readHashes('load partition', userIds);
      for (const [j, userId] of userIds.entries()) {
        const live = await liveOf(userId, hashes[j] ?? {});
        if (live.length > 0) out.set(userId, live);
        else gone.push(userId);
      }
      if (gone.length > 0) await redisCall('trim partition index', () => redis.zrem(index, ...gone));
      return out;
    },
    async lookup(userIds) {
      const unique = [...new Set(userIds)];
      // The marker and every hash in one round trip (callers bound the list: session-directory).
      const [since, ...hashes] = await pipelined('lookup', unique, (p) => p.get(sinceKey));
      const startedAt = typeof since === 'string' ? Number(since) : Number.NaN;
      if (!(now() - startedAt >= rebuildMs)) {
        throw new UnavailableError(
          `session directory incomplete: Redis lost its data and re-announcements refill it (${Number.isNaN(startedAt) ? 'no session since' : `${now() - startedAt} ms of ${rebuildMs}`})`,
        );
      }
      const out = new Map<string, MirroredSession[]>();
      for (const [j, userId] of unique.entries()) {
        // Read-only (see the port): stale fields are skipped here, deleted only by the owner's load.
        const live = Object.entries(HashFields.parse(hashes[j] ?? {})).flatMap(
          ([connectionId, value]) => liveSession(connectionId, value) ?? [],
        );
        if (live.length > 0) out.set(userId, live.sort(byConnectionId));
      }
      return out;
    },
    health: () => redisHealth(redis),
  };
}
