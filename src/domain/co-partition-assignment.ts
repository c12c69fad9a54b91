/**
 * The co-partitioning, sticky assignment the owner group uses.
 *
 * Guarantees:
 * - co-partitioning: partition p of every request topic goes to the same member, so one
 *   instance holds all of a user's state (login-request and chat-request are keyed alike);
 * - balance: member loads differ by at most one partition;
 * - stickiness: a member keeps the partitions it owned before, as far as balance allows,
 *   so a rebalance moves as few users as possible (each moved user costs a state reload);
 * - determinism: the same input gives the same output, whoever is the group leader.
 */
export interface AssignmentMember {
  readonly memberId: string;
  /** Partitions this member owned before the rebalance (from its join metadata). */
  readonly owned: readonly number[];
}

export function assignCoPartitions(members: readonly AssignmentMember[], partitionCount: number): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (members.length === 0) return result;
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  for (const m of sorted) result.set(m.memberId, []);

  const base = Math.floor(partitionCount / sorted.length);
  let extra = partitionCount % sorted.length;
  // Members that owned the most keep the extra slots, so fewer partitions move.
  const byPrevious = [...sorted].sort((a, b) => b.owned.length - a.owned.length);
  const quota = new Map<string, number>();
  for (const m of byPrevious) {
    quota.set(m.memberId, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }

  const taken = new Set<number>();
  for (const m of sorted) {
    const mine = result.get(m.memberId)!;
    const limit = quota.get(m.memberId)!;
    for (const p of [...m.owned].sort((a, b) => a - b)) {
      if (mine.length >= limit) break;
      if (p < 0 || p >= partitionCount || taken.has(p)) continue;
      taken.add(p);
      mine.push(p);
    }
  }

  for (let p = 0; p < partitionCount; p++) {
    if (taken.has(p)) continue;
    const target = sorted.find((m) => result.get(m.memberId)!.length < quota.get(m.memberId)!)!;
    result.get(target.memberId)!.push(p);
    taken.add(p);
  }
  for (const list of result.values()) list.sort((a, b) => a - b);
  return result;
}
