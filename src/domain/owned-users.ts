/**
 * The owner's in-memory state: the users of the partitions this instance owns, grouped by
 * partition so a revoked partition's users are dropped in one step. Only the owner of a
 * partition writes here, one record at a time, so there are no locks.
 */
export interface LiveSession {
  readonly instanceId: string;
  readonly connectionId: string;
}

export interface OwnedUser {
  readonly userId: string;
  displayName: string;
  readonly loadedAt: number;
  /** Live sockets by connection id. */
  readonly sessions: Map<string, LiveSession>;
}

export class OwnedUsers {
  private readonly byPartition = new Map<number, Map<string, OwnedUser>>();

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

  /** Loads (or refreshes) a user on an owned partition. Throws if the partition is not owned. */
  load(partition: number, user: { userId: string; displayName: string }, now: number): OwnedUser {
    const users = this.byPartition.get(partition);
    if (users === undefined) throw new RangeError(`partition ${partition} is not owned`);
    const existing = users.get(user.userId);
    if (existing !== undefined) {
      existing.displayName = user.displayName;
      return existing;
    }
    const created: OwnedUser = { userId: user.userId, displayName: user.displayName, loadedAt: now, sessions: new Map() };
    users.set(user.userId, created);
    return created;
  }

  userCount(): number {
    let n = 0;
    for (const users of this.byPartition.values()) n += users.size;
    return n;
  }
}
