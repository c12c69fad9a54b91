/**
 * kafkajs 2.2.4's request queue polls itself every millisecond, forever, on every broker
 * connection: RequestQueue.checkPendingRequests always ends in scheduleCheckPendingRequests,
 * which, with nothing pending and no throttle (throttledUntil -1), sets a timer for a
 * negative delay (1 ms) that calls checkPendingRequests again. An idle instance woke its
 * event loop ~950 times a second for nothing (strace: epoll_pwait with a 1 ms timeout in a
 * loop) -- most of its idle CPU, invisible to a --cpu-prof profile because no JavaScript
 * of note runs. Reported upstream as tulios/kafkajs#1556, #1604 and #1704 (fixes proposed
 * in #1667 and #1768, not released).
 *
 * The fix is the one proposed there: when nothing is pending and nothing throttles the
 * connection, schedule nothing. Nothing is lost by it: a request that must wait is put in
 * `pending` by push(), which schedules a check itself, and a finished request checks the
 * queue directly (fulfillRequest). Everything else keeps kafkajs's own behaviour.
 *
 * Applied once, when the Kafka adapter is loaded, to exactly the version it was read
 * against; another version is left alone (and this fix is to be re-read then).
 */
export const KAFKAJS_IDLE_FIX_VERSION = '2.2.4';

interface RequestQueueState {
  readonly pending: readonly unknown[];
  readonly throttledUntil: number;
  readonly throttleCheckTimeoutId: unknown;
}
type Schedule = (this: RequestQueueState) => void;

function isQueueClass(value: unknown): value is { prototype: { scheduleCheckPendingRequests: Schedule; idleFixApplied?: boolean } } {
  if (typeof value !== 'function') return false;
  const proto: unknown = (value as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && typeof (proto as { scheduleCheckPendingRequests?: unknown }).scheduleCheckPendingRequests === 'function';
}

/** Returns whether the fix is in place (false: another kafkajs version, left as it is). */
export function applyKafkajsIdleFix(): boolean {
  // The published package ships its sources; this is the module kafkajs itself loads.
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_IDLE_FIX_VERSION) return false;
  const RequestQueue: unknown = require('kafkajs/src/network/requestQueue');
  if (!isQueueClass(RequestQueue)) return false;
  const proto = RequestQueue.prototype;
  if (proto.idleFixApplied === true) return true;
  const original = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueState): void {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now() && !this.throttleCheckTimeoutId) return;
    original.call(this);
  };
  proto.idleFixApplied = true;
  return true;
}
