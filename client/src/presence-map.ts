/**
 * Who is online, as far as this connection has been told: a `presence.snapshot` after each
 * `ready`, then `presence` frames. A user absent from the map is unknown (not in a shared
 * room, beyond the server's snapshot cap, or no snapshot came: the server leaves it out
 * when its session directory cannot answer).
 *
 * Why `presence` frames after `ready` win over the snapshot: the snapshot is read once,
 * right after `ready`, and a change announced after that read can reach the socket before
 * the snapshot does (it comes from another user's owner). Such a frame is newer than the
 * snapshot's entry for that user, so the snapshot does not overwrite it.
 */
export interface PresenceMap {
  /** true online, false offline, undefined unknown. */
  get(userId: string): boolean | undefined;
  /** Every user with a known state. */
  entries(): ReadonlyMap<string, boolean>;
  /** A new `ready`: frames from here on are newer than the snapshot that follows. */
  ready(): void;
  /** A `presence` frame; returns whether the state changed. */
  applyPresence(userId: string, online: boolean): boolean;
  /** A `presence.snapshot`; returns the users whose state changed (with their new state). */
  applySnapshot(users: readonly { readonly userId: string; readonly online: boolean }[]): { userId: string; online: boolean }[];
}

export function createPresenceMap(): PresenceMap {
  const known = new Map<string, boolean>();
  // Users with a `presence` frame since the last `ready`.
  const sinceReady = new Set<string>();
  return {
    get: (userId) => known.get(userId),
    entries: () => known,
    ready() {
      sinceReady.clear();
    },
    applyPresence(userId, online) {
      sinceReady.add(userId);
      const changed = known.get(userId) !== online;
      known.set(userId, online);
      return changed;
    },
    applySnapshot(users) {
      const changed: { userId: string; online: boolean }[] = [];
      for (const { userId, online } of users) {
        if (sinceReady.has(userId) || known.get(userId) === online) continue;
        known.set(userId, online);
        changed.push({ userId, online });
      }
      return changed;
    },
  };
}
