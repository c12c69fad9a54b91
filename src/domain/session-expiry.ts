import type { LiveSession, OwnedUser } from './owned-users';

/**
 * Session expiry at the user's owner (docs/architecture.md, "Presence that tells the
 * truth"). A gateway re-announces its live sockets every SESSION_REANNOUNCE_MS; a session
 * not seen for more than SESSION_TTL_MS belongs to an instance that died without a word.
 * The owner's timer finds users whose *last* session has expired (the moment they went
 * offline) and asks for their expiry through their partition; the handler then removes
 * what is expired by its own clock, so a session re-announced in between survives.
 */

/** A session is live while `now - seenAt <= ttlMs` (the same test as liveSessions). */
const expired = (s: LiveSession, now: number, ttlMs: number): boolean => now - s.seenAt > ttlMs;

/** The user still holds sessions and every one of them has expired: the user went offline. */
export function lastSessionExpired(user: OwnedUser, now: number, ttlMs: number): boolean {
  if (user.sessions.size === 0) return false;
  for (const s of user.sessions.values()) if (!expired(s, now, ttlMs)) return false;
  return true;
}

/**
 * The users the timer must ask to expire now: their last session expired, and no request
 * of theirs is in flight. A request not answered within `ttlMs` (its record was lost
 * to a rebalance and came back to another owner, say) is asked again.
 */
export function dueForExpiry(users: Iterable<OwnedUser>, now: number, ttlMs: number): OwnedUser[] {
  const due: OwnedUser[] = [];
  for (const user of users) {
    if (!lastSessionExpired(user, now, ttlMs)) continue;
    if (user.expiryRequestedAt !== undefined && now - user.expiryRequestedAt <= ttlMs) continue;
    due.push(user);
  }
  return due;
}

/**
 * Removes the user's expired sessions (all that are, not only the last). Returns them and
 * whether that left the user with none: the caller announces `offline` then.
 */
export function expireSessions(user: OwnedUser, now: number, ttlMs: number): { expired: LiveSession[]; wentOffline: boolean } {
  const gone = [...user.sessions.values()].filter((s) => expired(s, now, ttlMs));
  for (const s of gone) user.sessions.delete(s.connectionId);
  return { expired: gone, wentOffline: gone.length > 0 && user.sessions.size === 0 };
}

/**
 * How often the owner's timer looks: a twentieth of the TTL, between 20 ms and 1 s, so
 * `offline` follows the last session's expiry by at most that (plus one Kafka hop).
 */
export function expirySweepIntervalMs(ttlMs: number): number {
  return Math.min(1_000, Math.max(20, Math.floor(ttlMs / 20)));
}
