import { liveSessions } from '../domain/owned-users';
import { makeRecord, type RecordOf } from '../protocol/envelope';
import type { OutboundRecord } from '../ports/bus';
import { ensureUser, relay, type Inbound, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';
import { presenceSnapshot } from './presence-snapshot';

/**
 * session.opened / session.closed: keep the user's live sessions (mirrored to Redis for
 * the next owner), answer `ready` to a new socket, and tell the members of the user's
 * rooms when the user comes online (first socket) or goes offline (last socket). A new
 * socket also gets a presence.snapshot after its `ready` (owner/presence-snapshot.ts).
 */
export async function handleSession(
  ctx: OwnerContext,
  request: Inbound,
  record: RecordOf<'session.opened'> | RecordOf<'session.closed'>,
): Promise<void> {
  const { userId } = record;
  const { instanceId, connectionId } = record.payload;
  const now = ctx.now();
  const user = await ensureUser(ctx, request.partition, userId);
  // Online as last announced: the sessions this owner holds, expired or not. An expired one
  // still held has not been announced offline yet (owner/session-expiry.ts does that), so
  // dropping it here, with the last one, announces offline too.
  const wasOnline = user.sessions.size > 0;
  const out: OutboundRecord[] = [];

  if (record.type === 'session.opened' && record.payload.reannounce !== true && !user.sessions.has(connectionId)) {
    // The per-user cap: only the owner sees the user's sockets on every instance. The new
    // socket is refused (closed with 4008 by its instance) and never recorded, so the ones
    // already open are not disturbed and presence does not flicker.
    const live = liveSessions(user, now, ctx.limits.sessionTtlMs).length;
    if (live >= ctx.limits.maxSessionsPerUser) {
      ctx.metrics.securityRefusals.inc({ reason: 'connections_per_user' });
      ctx.logger.info({ userId, live, connectionId }, 'socket refused: per-user cap');
      const reason = `CONNECTION_LIMIT: at most ${ctx.limits.maxSessionsPerUser} connections per user`;
      ctx.publish([
        { topic: ctx.bus.inboxTopicOf(instanceId), key: userId, record: makeRecord('session.refused', userId, { connectionId, reason }) },
      ]);
      return;
    }
  }

  if (record.type === 'session.opened') {
    // Seen when the gateway said so, not when this owner got to it: a record handled again
    // after a rebalance (the ones since the last commit are), or late behind a backlog,
    // proves the socket was alive then, no later, so it cannot keep a dead instance's
    // session alive for a TTL more. (A gateway clock behind the owner's by d shortens a
    // session's life by d; sessions are re-announced at least twice per TTL.)
    const seenAt = Math.min(now, record.ts);
    await ctx.mirror.put(userId, { instanceId, connectionId, seenAt }, request.partition);
    const known = user.sessions.get(connectionId);
    if (known !== undefined) known.seenAt = Math.max(known.seenAt, seenAt);
    else user.sessions.set(connectionId, { instanceId, connectionId, seenAt });
    if (record.payload.reannounce !== true)
      out.push(relay(ctx, userId, instanceId, [connectionId], { type: 'ready', userId, connectionId }));
  } else {
    await ctx.mirror.remove(userId, connectionId);
    user.sessions.delete(connectionId);
  }
  // Sessions of instances that stopped re-announcing are gone; forget them here too.
  for (const s of [...user.sessions.values()]) if (now - s.seenAt > ctx.limits.sessionTtlMs) user.sessions.delete(s.connectionId);

  const isOnline = user.sessions.size > 0;
  if (isOnline !== wasOnline) {
    const members = await ctx.store.coMembers(userId);
    out.push(...(await fanOut(ctx, { type: 'presence', userId, online: isOnline }, members, userId)));
    ctx.logger.debug({ userId, online: isOnline, notified: members.length }, 'presence changed');
  }
  if (out.length > 0) ctx.publish(out);
  // After `ready` (handed over first, so it reaches the socket first) and without holding it up.
  if (record.type === 'session.opened' && record.payload.reannounce !== true) {
    ctx.publish(presenceSnapshot(ctx, userId, instanceId, connectionId));
  }
}
