import { liveSessions } from '../domain/owned-users';
import type { RecordOf } from '../protocol/envelope';
import type { OutboundRecord } from '../ports/bus';
import { ensureUser, relay, type Inbound, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';

/**
 * session.opened / session.closed: keep the user's live sessions (mirrored to Redis for
 * the next owner), answer `ready` to a new socket, and tell the members of the user's
 * rooms when the user comes online (first socket) or goes offline (last socket).
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
  const wasOnline = liveSessions(user, now, ctx.limits.sessionTtlMs).length > 0;
  const out: OutboundRecord[] = [];

  if (record.type === 'session.opened') {
    await ctx.mirror.put(userId, { instanceId, connectionId, seenAt: now }, request.partition);
    const known = user.sessions.get(connectionId);
    if (known !== undefined) known.seenAt = now;
    else user.sessions.set(connectionId, { instanceId, connectionId, seenAt: now });
    if (record.payload.reannounce !== true) out.push(relay(ctx, userId, instanceId, [connectionId], { type: 'ready', userId, connectionId }));
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
}
