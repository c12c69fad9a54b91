import type { OutboundRecord } from '../ports/bus';
import { relay, type OwnerContext } from './owner-context';

/**
 * The `presence.snapshot` a new socket gets right after its `ready` (docs/architecture.md,
 * "Presence snapshot"): the members of the user's rooms (not the user), the first
 * `limits.presenceSnapshotMaxUsers` by userId, each with whether the session directory
 * (the mirror their owners keep, as fan-out reads it) holds a live session of theirs.
 *
 * Why it is consistent with the `presence` frames that follow: the user's own session is
 * in the mirror before this runs, so a co-member whose state changes after the directory
 * read is announced to this socket by the co-member's owner. Such a frame can overtake the
 * snapshot (different owners, different records); clients keep a `presence` frame seen
 * after `ready` over the snapshot's entry for that user.
 *
 * Never rejects: when the directory cannot answer (Redis down, or refilling after a loss)
 * or the store fails, the snapshot is left out (counted, logged) rather than guessed: a
 * client then shows those users as unknown until their next `presence` frame. `ready`
 * never waits for it; the caller hands it to the bus after `ready`, so it follows `ready`
 * on the socket.
 */
export async function presenceSnapshot(
  ctx: OwnerContext,
  userId: string,
  instanceId: string,
  connectionId: string,
): Promise<OutboundRecord[]> {
  let members: string[];
  try {
    members = await ctx.store.firstCoMembers(userId, ctx.limits.presenceSnapshotMaxUsers);
  } catch (error) {
    return leftOut(ctx, 'store_failed', userId, error);
  }
  let found: Awaited<ReturnType<OwnerContext['directory']['lookup']>>;
  try {
    found = await ctx.directory.lookup(members);
  } catch (error) {
    return leftOut(ctx, 'directory_unavailable', userId, error);
  }
  const now = ctx.now();
  // The same live test as fan-out: the mirror's TTL, and this owner's clock too.
  const users = members.map((m) => ({ userId: m, online: (found.get(m) ?? []).some((s) => now - s.seenAt <= ctx.limits.sessionTtlMs) }));
  ctx.metrics.presenceSnapshots.inc({ outcome: 'sent' });
  return [relay(ctx, userId, instanceId, [connectionId], { type: 'presence.snapshot', users })];
}

function leftOut(ctx: OwnerContext, outcome: 'store_failed' | 'directory_unavailable', userId: string, error: unknown): [] {
  ctx.metrics.presenceSnapshots.inc({ outcome });
  ctx.logger.info({ userId, outcome, err: error instanceof Error ? error.message : String(error) }, 'presence snapshot left out');
  return [];
}
