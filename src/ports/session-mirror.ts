import type { HealthCheck } from './service';

export interface MirroredSession {
  readonly connectionId: string;
  readonly instanceId: string;
  /** Epoch ms of the last open or re-announce. */
  readonly seenAt: number;
}

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
  health(): Promise<HealthCheck>;
}
