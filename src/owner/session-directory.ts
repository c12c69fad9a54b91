import type { MirroredSession, SessionMirror } from '../ports/session-mirror';

/**
 * Where other users' sockets are, for routing a frame straight to the instances that hold
 * them (owner/fan-out.ts). Reads the session mirror, which each user's owner keeps (it is
 * the only writer; this only reads).
 *
 * Lookups made while one is in flight are merged into the next, so an owner sending many
 * messages at once makes one mirror round trip per batch, not one per message: an idle
 * owner looks up at once, a busy one in fewer, larger reads. Each caller's answer holds
 * at least the users it asked for (users without a live session are absent).
 */
export interface SessionDirectory {
  lookup(userIds: readonly string[]): Promise<ReadonlyMap<string, readonly MirroredSession[]>>;
}

interface Waiting {
  readonly userIds: readonly string[];
  readonly resolve: (found: ReadonlyMap<string, readonly MirroredSession[]>) => void;
  readonly reject: (error: unknown) => void;
}

export function createSessionDirectory({
  mirror,
  maxUsers = 2_000,
}: {
  mirror: Pick<SessionMirror, 'lookup'>;
  /** Most users one merged read asks for (a caller's own list is never split). Default 2000. */
  maxUsers?: number;
}): SessionDirectory {
  const queue: Waiting[] = [];
  let busy = false;

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch: Waiting[] = [];
      const users = new Set<string>();
      while (queue.length > 0 && (batch.length === 0 || users.size + queue[0]!.userIds.length <= maxUsers)) {
        const next = queue.shift()!;
        batch.push(next);
        for (const u of next.userIds) users.add(u);
      }
      try {
        const found = await mirror.lookup([...users]);
        for (const w of batch) w.resolve(found);
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    busy = false;
  };

  return {
    lookup(userIds) {
      if (userIds.length === 0) return Promise.resolve(new Map());
      return new Promise((resolve, reject) => {
        queue.push({ userIds, resolve, reject });
        if (busy) return;
        busy = true;
        // The end of this event-loop turn: lookups made in the same turn share the read.
        setImmediate(() => void flush());
      });
    },
  };
}
