import type { InstanceView } from '../protocol/instance-view';

/**
 * Where instances leave their latest view for each other (the cluster view). Each
 * instance announces its own every few seconds with a time to live, so a view disappears
 * on its own when its instance dies; nothing else is ever written.
 *
 * Guarantees: `list` returns the views announced within their TTL (any order), at most one
 * per instance; a view that fails validation is left out, not an error.
 */
export interface InstanceDirectory {
  readonly kind: 'redis' | 'local';
  announce(view: InstanceView, ttlMs: number): Promise<void>;
  withdraw(instanceId: string): Promise<void>;
  list(): Promise<InstanceView[]>;
}
