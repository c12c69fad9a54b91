import { createInboxReaper } from '../domain/inbox-reaping';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { InboxTopics } from '../ports/bus';
import type { InstanceDirectory } from '../ports/instance-directory';
import type { Service } from '../ports/service';

export interface InboxJanitorOptions {
  readonly inboxes: InboxTopics;
  /** A directory every instance announces to (Redis): with a local one, others would look gone. */
  readonly directory: InstanceDirectory;
  readonly instanceId: string;
  /** Time between passes (INBOX_JANITOR_INTERVAL_MS). */
  readonly intervalMs: number;
  /** How long an instance must have been gone (INBOX_RETENTION_MS). */
  readonly retentionMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Deletes the inbox topics of instances gone for longer than the retention
 * (domain/inbox-reaping.ts decides which). Every instance runs one: passes are idempotent
 * (deleting an inbox already deleted is fine), and a pass that fails is logged and tried
 * again at the next interval. The first pass runs one interval after start, not at start,
 * so a cluster restarting together has announced itself first.
 */
export function createInboxJanitor({
  inboxes,
  directory,
  instanceId,
  intervalMs,
  retentionMs,
  logger,
  metrics,
  now = Date.now,
}: InboxJanitorOptions): Service & { pass(): Promise<void> } {
  const log = logger.child({ component: 'inbox-janitor' });
  const reaper = createInboxReaper({ retentionMs });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const pass = async (): Promise<void> => {
    const [ids, views, lastSeen] = await Promise.all([inboxes.list(), directory.list(), directory.lastSeen()]);
    const plan = reaper.plan({ inboxes: ids, live: new Set(views.map((v) => v.instanceId)), lastSeen, self: instanceId, now: now() });
    for (const id of plan.note) await directory.noteSeen(id, now());
    for (const id of plan.reap) {
      await inboxes.delete(id);
      await directory.forget(id);
      metrics.inboxesReaped.inc();
      log.info({ instanceId: id, lastSeen: new Date(lastSeen.get(id) ?? 0).toISOString() }, 'inbox of a gone instance deleted');
    }
    for (const id of plan.forget) await directory.forget(id);
  };
  const guarded = (): Promise<void> =>
    (running ??= pass()
      .catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'inbox janitor pass failed'))
      .finally(() => (running = undefined)));

  return {
    pass: guarded,
    async start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void guarded(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
