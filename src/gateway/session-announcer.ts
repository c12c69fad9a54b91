import { makeRecord } from '../protocol/envelope';
import type { Bus } from '../ports/bus';
import type { Service } from '../ports/service';
import type { Logger } from '../observability/logger';
import type { ConnectionRegistry } from './connection-registry';

/** start() begins the periodic re-announce of live sessions; stop() ends it. */
export interface SessionAnnouncer extends Service {
  opened(userId: string, connectionId: string): Promise<void>;
  closed(userId: string, connectionId: string): Promise<void>;
}

/**
 * Tells each user's owner about the user's sockets on this instance: `session.opened` and
 * `session.closed` through the user's own partition, and, every `intervalMs`, a
 * re-announce of every live session. The re-announce heals a lost event and keeps the
 * owner's (and the mirror's) entry fresh; an instance that dies stops re-announcing, so
 * its sessions expire at the owner.
 */
export function createSessionAnnouncer({
  bus,
  chatTopic,
  instanceId,
  registry,
  intervalMs,
  logger,
}: {
  bus: Bus;
  chatTopic: string;
  instanceId: string;
  registry: ConnectionRegistry;
  /** How often to re-announce (config SESSION_REANNOUNCE_MS). */
  intervalMs: number;
  logger: Logger;
}): SessionAnnouncer {
  let timer: NodeJS.Timeout | undefined;
  const log = logger.child({ component: 'session-announcer' });
  const reannounce = async (): Promise<void> => {
    const live = registry.all();
    if (live.length === 0) return;
    const records = live.map((c) => ({
      topic: chatTopic,
      key: c.userId,
      record: makeRecord('session.opened', c.userId, { instanceId, connectionId: c.id, reannounce: true }),
    }));
    try {
      for (let i = 0; i < records.length; i += 500) await bus.publish(records.slice(i, i + 500));
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error), sessions: live.length },
        're-announce failed; will retry next interval',
      );
    }
  };
  return {
    async opened(userId, connectionId) {
      await bus.publish([{ topic: chatTopic, key: userId, record: makeRecord('session.opened', userId, { instanceId, connectionId }) }]);
    },
    async closed(userId, connectionId) {
      await bus.publish([{ topic: chatTopic, key: userId, record: makeRecord('session.closed', userId, { instanceId, connectionId }) }]);
    },
    async start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void reannounce(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
