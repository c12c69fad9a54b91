import type { HealthCheck } from './service';

export interface MirroredSession {
  readonly connectionId: string;
  readonly instanceId: string;
  /** Epoch ms of the last open or re-announce. */
  readonly seenAt: number;
}

/** The order every mirror lists a user's sessions in. */
export const byConnectionId = (a: MirroredSession, b: MirroredSession): number =>
  a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0;

/**
 * A copy of each user's live sessions outside the owner's memory (Redis in a cluster), so
 * that a new owner can load them after a rebalance. Only the user's owner writes a user's
 * entry, one record at a time, so writes to one user never race.
 *
 * Guarantees: `put` and `remove` are idempotent; `load` returns what the last completed
 * writes left; entries of a user expire `ttlMs` after their last `put` (a gateway
 * re-announces live sessions well within it), so an instance that died without saying so
 * does not keep its sessions forever. `loadPartition` returns, for every user last `put`
 * under that partition, exactly what `load` would (users left with no live session are
 * omitted), so a new owner can load a whole partition at once when it is assigned. An
 * unreachable store is a retriable UnavailableError.
 */
export interface SessionMirror {
  /** `partition`: the request-topic partition of the user (the record's), indexing the user for `loadPartition`. */
  put(userId: string, session: MirroredSession, partition: number): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  load(userId: string): Promise<MirroredSession[]>;
  /** Every user of the partition with live sessions, each with what `load` would return. */
  loadPartition(partition: number): Promise<ReadonlyMap<string, MirroredSession[]>>;
  /**
   * The session directory: the live sessions of each of `userIds` (users with none are
   * omitted), in one round trip, for *other* users' owners to route deliveries straight to
   * the instances holding the sockets. Read-only, unlike `load` (which deletes stale
   * fields): only a user's owner writes the user's entry, so a reader that deleted what it
   * saw as stale could delete a session its owner re-announced a moment later.
   *
   * Freshness: it sees every `put` that completed before it was called. The owner
   * completes a session's `put` before it answers `ready`, so a socket missing from an
   * answer registered after the lookup began, and the resume that follows its `ready`
   * reads from PostgreSQL whatever was stored before the lookup.
   *
   * Completeness: a store that lost its data (a Redis restarted empty) is refilled by the
   * gateways' re-announcements, not at once; until then an empty answer would mean "offline"
   * for a user who is online. So while the store may be incomplete, `lookup` rejects with a
   * retriable UnavailableError, and callers take another path (the users' owners).
   */
  lookup(userIds: readonly string[]): Promise<ReadonlyMap<string, MirroredSession[]>>;
  health(): Promise<HealthCheck>;
}
