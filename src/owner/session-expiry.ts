import { dueForExpiry, expireSessions, expirySweepIntervalMs, lastSessionExpired } from '../domain/session-expiry';
import type { OwnedUsers } from '../domain/owned-users';
import { makeRecord, type RecordOf } from '../protocol/envelope';
import type { Bus, OutboundRecord } from '../ports/bus';
import type { Logger } from '../observability/logger';
import { fanOut } from './fan-out';
import type { Inbound, OwnerContext } from './owner-context';

export interface SessionExpiryTimer {
  /** Starts looking (idempotent): the owner calls it when it owns partitions. */
  start(): void;
  /** Stops looking: the owner calls it when it owns none (its users are dropped with them). */
  stop(): void;
  /** One look now (tests). */
  sweep(): void;
}

/**
 * The owner's expiry timer: every few hundred ms (domain/session-expiry.ts) it finds the
 * users of the partitions this instance owns whose last session was not re-announced
 * within the TTL, and puts a `session.expire` record on each one's partition. It never
 * changes a session itself: the record is handled in the partition's order like every
 * other change of the user's live state, so it cannot race a `session.opened`. Only the
 * users of owned partitions are looked at: a revoked partition's users are dropped from
 * `users`, so its timers stop with it.
 */
export function createSessionExpiryTimer({
  users,
  bus,
  chatTopic,
  ttlMs,
  now,
  logger,
}: {
  users: OwnedUsers;
  bus: Pick<Bus, 'publish'>;
  chatTopic: string;
  ttlMs: number;
  now: () => number;
  logger: Logger;
}): SessionExpiryTimer {
  let timer: NodeJS.Timeout | undefined;

  const sweep = (): void => {
    const at = now();
    const due = dueForExpiry(users.all(), at, ttlMs);
    if (due.length === 0) return;
    const records: OutboundRecord[] = due.map((user) => {
      user.expiryRequestedAt = at;
      return { topic: chatTopic, key: user.userId, record: makeRecord('session.expire', user.userId, {}) };
    });
    bus.publish(records).catch((error: unknown) => {
      // Asked again at the next look (Kafka unavailable for now).
      for (const user of due) if (user.expiryRequestedAt === at) user.expiryRequestedAt = undefined;
      logger.warn(
        { err: error instanceof Error ? error.message : String(error), users: due.length },
        'session expiry: request not written',
      );
    });
  };

  return {
    start() {
      if (timer !== undefined) return;
      timer = setInterval(sweep, expirySweepIntervalMs(ttlMs));
      // An owner with nothing else to do must not keep the process alive for this.
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    sweep,
  };
}

/**
 * session.expire at the user's owner: forget the sessions not re-announced within the TTL
 * (by this owner's clock now, so one re-announced since the request stays) and, when that
 * leaves none, tell the members of the user's rooms `offline`. The store is read before
 * anything changes, so a failed read leaves the state as it was for the bus's retry.
 * The mirror is not written: its entries expire on their own after the same TTL.
 */
export async function handleSessionExpire(ctx: OwnerContext, request: Inbound, record: RecordOf<'session.expire'>): Promise<void> {
  const { userId } = record;
  // Not loaded: this owner holds no session of the user (a lazy load takes live ones only).
  const user = ctx.users.get(request.partition, userId);
  if (user === undefined) return;
  user.expiryRequestedAt = undefined;
  const now = ctx.now();
  const ttlMs = ctx.limits.sessionTtlMs;
  if (!lastSessionExpired(user, now, ttlMs)) {
    // Re-announced meanwhile, or another session still live: only tidy up the dead ones.
    expireSessions(user, now, ttlMs);
    return;
  }
  const members = await ctx.store.coMembers(userId);
  const out = await fanOut(ctx, { type: 'presence', userId, online: false }, members, userId);
  const { expired } = expireSessions(user, now, ttlMs);
  ctx.metrics.sessionsExpired.inc();
  ctx.logger.info(
    { event: 'presence.expired', userId, sessions: expired.map((s) => s.connectionId), notified: members.length },
    'last session expired: offline',
  );
  if (out.length > 0) ctx.publish(out);
}
