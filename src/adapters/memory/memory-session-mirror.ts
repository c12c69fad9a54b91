import { UnavailableError } from '../../domain/errors';
import { byConnectionId, type MirroredSession, type SessionMirror } from '../../ports/session-mirror';

interface UserEntry {
  /** When the user's entry expires: ttlMs after the last put. */
  expiresAt: number;
  /** The partition of the last put. */
  partition: number;
  readonly sessions: Map<string, MirroredSession>;
}

/**
 * In-process SessionMirror: unit tests and the single-process default. Behaves like the
 * Redis mirror: a user's entry expires `ttlMs` after the last `put`, and `load` drops
 * (and forgets) sessions whose `seenAt` is `ttlMs` old or older.
 */
export function createMemorySessionMirror({
  ttlMs,
  directory = true,
  now = () => Date.now(),
}: {
  /** How long a user's sessions live after their last put, and how old a seenAt may get. */
  ttlMs: number;
  /**
   * Whether every owner of the cluster writes here, so `lookup` is a session directory.
   * Default true (one process, or apps sharing this mirror). False for a Kafka cluster
   * without Redis, where each instance has its own: `lookup` then refuses (retriably), and
   * fan-out goes through the users' owners.
   */
  directory?: boolean;
  /** Clock. Default Date.now. */
  now?: () => number;
}): SessionMirror {
  const users = new Map<string, UserEntry>();
  /** The user's live entry, or undefined (an expired one is forgotten). */
  const entryOf = (userId: string): UserEntry | undefined => {
    const entry = users.get(userId);
    if (entry !== undefined && entry.expiresAt <= now()) users.delete(userId);
    return users.get(userId);
  };
  const load = (userId: string): MirroredSession[] => {
    const entry = entryOf(userId);
    if (entry === undefined) return [];
    const live: MirroredSession[] = [];
    for (const [connectionId, s] of entry.sessions) {
      if (now() - s.seenAt >= ttlMs) entry.sessions.delete(connectionId);
      else live.push({ ...s });
    }
    if (entry.sessions.size === 0) users.delete(userId);
    return live.sort(byConnectionId);
  };
  return {
    async put(userId, session, partition) {
      const entry = entryOf(userId) ?? { expiresAt: 0, partition, sessions: new Map<string, MirroredSession>() };
      entry.partition = partition;
      entry.sessions.set(session.connectionId, {
        connectionId: session.connectionId,
        instanceId: session.instanceId,
        seenAt: session.seenAt,
      });
      entry.expiresAt = now() + ttlMs;
      users.set(userId, entry);
    },
    async remove(userId, connectionId) {
      const entry = entryOf(userId);
      if (entry === undefined) return;
      entry.sessions.delete(connectionId);
      if (entry.sessions.size === 0) users.delete(userId);
    },
    async load(userId) {
      return load(userId);
    },
    async lookup(userIds) {
      if (!directory) throw new UnavailableError('no shared session directory: this mirror is one instance’s (a cluster without Redis)');
      const t = now();
      const out = new Map<string, MirroredSession[]>();
      for (const userId of new Set(userIds)) {
        const entry = users.get(userId);
        if (entry === undefined || entry.expiresAt <= t) continue;
        const live = [...entry.sessions.values()].filter((s) => t - s.seenAt < ttlMs).map((s) => ({ ...s }));
        if (live.length > 0) out.set(userId, live.sort(byConnectionId));
      }
      return out;
    },
    async loadPartition(partition) {
      const out = new Map<string, MirroredSession[]>();
      for (const [userId, entry] of [...users]) {
        if (entry.partition !== partition) continue;
        const live = load(userId);
        if (live.length > 0) out.set(userId, live);
      }
      return out;
    },
    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
