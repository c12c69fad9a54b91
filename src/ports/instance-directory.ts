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
  /** Also records the instance as seen now (`lastSeen`), which outlives the view's TTL. */
  announce(view: InstanceView, ttlMs: number): Promise<void>;
  withdraw(instanceId: string): Promise<void>;
  list(): Promise<InstanceView[]>;
  /**
   * When each instance last announced itself, kept after its view expired, until
   * `forget`: the inbox janitor reads how long an instance has been gone from it.
   */
  lastSeen(): Promise<ReadonlyMap<string, number>>;
  /** Records `at` as an instance's last sighting only if none is recorded (an inbox found with no record). */
  noteSeen(instanceId: string, at: number): Promise<void>;
  /** Drops an instance's last sighting (its inbox is gone). */
  forget(instanceId: string): Promise<void>;
}
