/**
 * The online dot of a user on the page. What the server said comes first: the connection's
 * presence map (client/src/presence-map.ts), filled by the `presence.snapshot` after each
 * `ready` and kept by `presence` frames, so a member already online shows online as soon as
 * the page opens. Activity the page saw (a live message, typing) counts only for users the
 * server said nothing about (beyond its snapshot cap, or no snapshot came).
 */
export type PresenceState = 'online' | 'offline' | 'unknown';

export function presenceState(
  userId: string,
  {
    self,
    server,
    active,
  }: {
    /** The signed-in user: always online on its own page. */
    self: string | undefined;
    /** The connection's presence map (absent before the first connection). */
    server: ReadonlyMap<string, boolean> | undefined;
    /** Users the page saw active. */
    active: ReadonlyMap<string, boolean>;
  },
): PresenceState {
  if (userId === self) return 'online';
  const state = server?.get(userId) ?? active.get(userId);
  return state === undefined ? 'unknown' : state ? 'online' : 'offline';
}
