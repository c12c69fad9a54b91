import { newBucket, type TokenBucket } from './token-bucket';

/**
 * The owner's in-memory state: the users of the partitions this instance owns, grouped by
 * partition so a revoked partition's users are dropped in one step. Only the owner of a
 * partition writes here, one record at a time, so there are no locks.
 */
export interface LiveSession {
  readonly instanceId: string;
  readonly connectionId: string;
  /** Epoch ms of the last open or re-announce. */
  seenAt: number;
}

export interface OwnedUser {
  readonly userId: string;
  readonly loadedAt: number;
  /** Live sockets by connection id. */
  readonly sessions: Map<string, LiveSession>;
  /** Send rate limit. */
  readonly bucket: TokenBucket;
  /**
   * When this owner's expiry timer last asked (through the user's partition) to expire the
   * user's sessions and has not seen the answer handled yet (domain/session-expiry.ts).
   */
  expiryRequestedAt?: number;
}

export class OwnedUsers {
  private readonly byPartition = new Map<number, Map<string, OwnedUser>>();

  constructor(private readonly burst: number = 30) {}

  own(partitions: Iterable<number>): void {
    for (const p of partitions) if (!this.byPartition.has(p)) this.byPartition.set(p, new Map());
  }

  /** Drops the partitions and every user on them; returns how many users were dropped. */
  drop(partitions: Iterable<number>): number {
    let dropped = 0;
    for (const p of partitions) {
      dropped += this.byPartition.get(p)?.size ?? 0;
      this.byPartition.delete(p);
    }
    return dropped;
  }

  owns(partition: number): boolean {
    return this.byPartition.has(partition);
  }

  partitions(): number[] {
    return [...this.byPartition.keys()].sort((a, b) => a - b);
  }

  get(partition: number, userId: string): OwnedUser | undefined {
    return this.byPartition.get(partition)?.get(userId);
  }

  /** Adds a user (with the sessions a mirror had) to an owned partition; returns the existing one if loaded. */
  load(partition: number, userId: string, sessions: readonly LiveSession[], now: number): OwnedUser {
    const users = this.byPartition.get(partition);
    if (users === undefined) throw new RangeError(`partition ${partition} is not owned`);
    const existing = users.get(userId);
    if (existing !== undefined) return existing;
    const created: OwnedUser = {
      userId,
      loadedAt: now,
      sessions: new Map(sessions.map((s) => [s.connectionId, { ...s }])),
      bucket: newBucket(this.burst, now),
    };
    users.set(userId, created);
    return created;
  }

  /** Every loaded user of every owned partition. */
  *all(): IterableIterator<OwnedUser> {
    for (const users of this.byPartition.values()) yield* users.values();
  }

  userCount(): number {
    let n = 0;
    for (const users of this.byPartition.values()) n += users.size;
    return n;
  }
}

/** Sessions seen within `ttlMs`: the others belong to instances that died without saying so. */
export function liveSessions(user: OwnedUser, now: number, ttlMs: number): LiveSession[] {
  return [...user.sessions.values()].filter((s) => now - s.seenAt <= ttlMs);
}

/** Groups connection ids by the instance that holds them. */
export function byInstance(sessions: readonly LiveSession[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of sessions) {
    const list = out.get(s.instanceId) ?? [];
    list.push(s.connectionId);
    out.set(s.instanceId, list);
  }
  return out;
}
