import type { InstanceView } from '../../protocol/instance-view';
import type { InstanceDirectory } from '../../ports/instance-directory';

/**
 * The directory without Redis: it knows what this process announced, so the cluster view
 * of a single-process instance shows that instance. Views expire as in Redis.
 */
export function createLocalInstanceDirectory({
  now = Date.now,
}: { /** Clock in ms. Default Date.now. */ now?: () => number } = {}): InstanceDirectory {
  const views = new Map<string, { view: InstanceView; expiresAt: number }>();
  const seen = new Map<string, number>();
  return {
    kind: 'local',
    async announce(view, ttlMs) {
      views.set(view.instanceId, { view, expiresAt: now() + ttlMs });
      seen.set(view.instanceId, now());
    },
    async withdraw(instanceId) {
      views.delete(instanceId);
    },
    async list() {
      const t = now();
      for (const [id, v] of views) if (v.expiresAt <= t) views.delete(id);
      return [...views.values()].map((v) => v.view);
    },
    async lastSeen() {
      return new Map(seen);
    },
    async noteSeen(instanceId, at) {
      if (!seen.has(instanceId)) seen.set(instanceId, at);
    },
    async forget(instanceId) {
      seen.delete(instanceId);
    },
  };
}
