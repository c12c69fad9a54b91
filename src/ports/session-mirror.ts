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
 * does not keep its sessions forever. An unreachable store is a retriable UnavailableError.
 */
export interface SessionMirror {
  put(userId: string, session: MirroredSession): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  load(userId: string): Promise<MirroredSession[]>;
  health(): Promise<HealthCheck>;
}
