/**
 * The direct room of a pair of users (POST /api/dms): one per unordered pair. Its key is
 * what the store makes unique, so "one room per pair" holds in the database whoever asks
 * first and on whichever instance.
 */

/** The pair's key: both userIds in sorted order, joined by a space (a userId has none). */
export function directRoomKey(a: string, b: string): string {
  return [a, b].sort().join(' ');
}

/** The name a direct room is stored with: the pair, sorted. Clients show the other member instead. */
export function directRoomName(a: string, b: string): string {
  return [a, b].sort().join(', ');
}
