import type { OwnerGroupStatus } from '../../ports/bus';

/** What a new assignment changed, in partition order. */
export interface AssignmentChange {
  /** Every partition of the new assignment. */
  readonly partitions: readonly number[];
  /** Owned or held before, not in the new assignment: their users' state is to be dropped. */
  readonly revoked: readonly number[];
  /** New to this member: their users' state is to be loaded. */
  readonly assigned: readonly number[];
}

/**
 * Which owner-group partitions this member may handle records of, through the group's
 * life: no I/O, no timers, so every transition is unit-tested (test/unit/partition-membership).
 *
 * - `owned`: records of these partitions may be handled now.
 * - `held`: owned before the member began to (re)join; no record of them is handled
 *   while the assignment may be moving them, and they are remembered only to tell kept
 *   from revoked when the new assignment comes.
 * - `preparing`: newly assigned partitions whose state load (onAssigned) has not settled;
 *   their records wait for it.
 */
export interface PartitionMembership {
  readonly state: OwnerGroupStatus['state'];
  /** True if records of `partition` may be handled now. */
  owns(partition: number): boolean;
  /** Owned partitions, ascending. */
  partitions(): number[];
  /**
   * The member begins to (re)join: every owned partition becomes held, none is owned.
   * Returns the held partitions, ascending (the co-partition assigner's "owned before").
   */
  join(): number[];
  /** The group began a rebalance (or the consumer crashed and will rejoin): state `joining`, partitions unchanged until join(). */
  rebalancing(): void;
  /** The group's new assignment for this member: it owns exactly `next` now. */
  assign(next: Iterable<number>): AssignmentChange;
  /**
   * Newly assigned `partitions` wait for `ready` before their records are handled. Once
   * it settles (either way) they stop waiting, unless a later prepare replaced it.
   */
  prepare(partitions: readonly number[], ready: Promise<void>): void;
  /** What records of `partition` must wait for, if anything. */
  preparation(partition: number): Promise<void> | undefined;
  /** The member left the group: returns every partition it owned or held (to drop), ascending. */
  stop(): number[];
}

const ascending = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

export function createPartitionMembership(): PartitionMembership {
  let state: OwnerGroupStatus['state'] = 'idle';
  let owned = new Set<number>();
  let held = new Set<number>();
  const preparing = new Map<number, Promise<void>>();
  return {
    get state() {
      return state;
    },
    owns: (partition) => owned.has(partition),
    partitions: () => ascending(owned),
    join() {
      for (const p of owned) held.add(p);
      owned = new Set();
      state = 'joining';
      return ascending(held);
    },
    rebalancing() {
      state = 'joining';
    },
    assign(next) {
      const nextSet = new Set(next);
      const previous = new Set([...held, ...owned]);
      const revoked = ascending([...previous].filter((p) => !nextSet.has(p)));
      const assigned = ascending([...nextSet].filter((p) => !previous.has(p)));
      held = new Set();
      owned = nextSet;
      state = 'joined';
      return { partitions: ascending(nextSet), revoked, assigned };
    },
    prepare(partitions, ready) {
      for (const p of partitions) preparing.set(p, ready);
      const done = (): void => {
        for (const p of partitions) if (preparing.get(p) === ready) preparing.delete(p);
      };
      ready.then(done, done);
    },
    preparation: (partition) => preparing.get(partition),
    stop() {
      const revoked = ascending(new Set([...held, ...owned]));
      owned = new Set();
      held = new Set();
      state = 'stopped';
      return revoked;
    },
  };
}
