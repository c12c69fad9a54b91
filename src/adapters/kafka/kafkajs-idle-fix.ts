/**
 * Two idle costs of kafkajs 2.2.4's request queue (one per broker connection), fixed here.
 *
 * 1. The queue polls itself every millisecond, forever: RequestQueue.checkPendingRequests
 *    always ends in scheduleCheckPendingRequests, which, with nothing pending and no
 *    throttle (throttledUntil -1), sets a timer for a negative delay (1 ms) that calls
 *    checkPendingRequests again. An idle instance woke its event loop ~950 times a second
 *    for nothing (strace: epoll_pwait with a 1 ms timeout in a loop). Reported upstream as
 *    tulios/kafkajs#1556, #1604 and #1704 (fixes proposed in #1667 and #1768, not
 *    released). The fix is the one proposed there: when nothing is pending and nothing
 *    throttles the connection, schedule nothing. Nothing is lost by it: a request that
 *    must wait is put in `pending` by push(), which schedules a check itself, and a
 *    finished request checks the queue directly (fulfillRequest).
 *
 * 2. Request timeouts are enforced by a 100 ms setInterval per connection that scans the
 *    in-flight map, whether anything is in flight or not: with a producer, an admin, two
 *    consumers and their coordinators that is ~13 connections and ~130 wake-ups a second,
 *    the largest part of an idle instance's CPU left after fix 1 (perf: listOnTimeout and
 *    this interval's closure on top). The fix gives each sent request its own timer,
 *    armed when it is sent and cleared when it completes or is rejected: the same
 *    deadline (sentAt + requestTimeout, now exact instead of rounded up to the next
 *    100 ms tick), the same timeoutRequest() path, and no work at all while nothing is in
 *    flight. A timer is only armed while the connection has asked for timeouts
 *    (scheduleRequestTimeoutCheck on connect, destroy on close), as the interval ran.
 *
 * Applied once, when the Kafka adapter is loaded, to exactly the version it was read
 * against; another version is left alone (and this fix is to be re-read then).
 */
export const KAFKAJS_IDLE_FIX_VERSION = '2.2.4';

interface SocketRequestState {
  readonly correlationId: number;
  readonly requestTimeout: number;
  timeoutRequest(): void;
  idleFixDeadline?: NodeJS.Timeout;
}
interface RequestQueueState {
  readonly pending: readonly unknown[];
  readonly throttledUntil: number;
  readonly throttleCheckTimeoutId: unknown;
  readonly enforceRequestTimeout: boolean;
  readonly inflight: ReadonlyMap<number, SocketRequestState>;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  idleFixTimeouts?: boolean;
}
type Schedule = (this: RequestQueueState) => void;
type QueueMethods = {
  scheduleCheckPendingRequests: Schedule;
  scheduleRequestTimeoutCheck: Schedule;
  destroy: Schedule;
  sendSocketRequest: (this: RequestQueueState, request: SocketRequestState) => void;
  idleFixApplied?: boolean;
};
type RequestMethods = {
  completed: (this: SocketRequestState, ...args: unknown[]) => void;
  rejected: (this: SocketRequestState, ...args: unknown[]) => void;
};

function hasMethods<M>(value: unknown, names: readonly (keyof M & string)[]): value is { prototype: M } {
  if (typeof value !== 'function') return false;
  const proto: unknown = (value as { prototype?: unknown }).prototype;
  if (typeof proto !== 'object' || proto === null) return false;
  return names.every((n) => typeof (proto as Record<string, unknown>)[n] === 'function');
}

/** Returns whether the fix is in place (false: another kafkajs version, left as it is). */
export function applyKafkajsIdleFix(): boolean {
  // The published package ships its sources; this is the module kafkajs itself loads.
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_IDLE_FIX_VERSION) return false;
  const RequestQueue: unknown = require('kafkajs/src/network/requestQueue');
  const SocketRequest: unknown = require('kafkajs/src/network/requestQueue/socketRequest');
  if (
    !hasMethods<QueueMethods>(RequestQueue, ['scheduleCheckPendingRequests', 'scheduleRequestTimeoutCheck', 'destroy', 'sendSocketRequest'])
  )
    return false;
  if (!hasMethods<RequestMethods>(SocketRequest, ['completed', 'rejected'])) return false;
  const proto = RequestQueue.prototype;
  if (proto.idleFixApplied === true) return true;

  // 1. No 1 ms self-poll while idle.
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueState): void {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now() && !this.throttleCheckTimeoutId) return;
    schedule.call(this);
  };

  // 2. A timer per request in flight instead of a 100 ms interval per connection.
  const destroy = proto.destroy;
  proto.scheduleRequestTimeoutCheck = function (this: RequestQueueState): void {
    if (!this.enforceRequestTimeout) return;
    destroy.call(this);
    this.idleFixTimeouts = true;
  };
  proto.destroy = function (this: RequestQueueState): void {
    this.idleFixTimeouts = false;
    destroy.call(this);
  };
  const send = proto.sendSocketRequest;
  proto.sendSocketRequest = function (this: RequestQueueState, request: SocketRequestState): void {
    send.call(this, request);
    // Sent and awaiting its response (a request without one has already completed).
    if (this.idleFixTimeouts !== true || this.inflight.get(request.correlationId) !== request) return;
    request.idleFixDeadline = setTimeout(() => {
      request.idleFixDeadline = undefined;
      if (this.inflight.get(request.correlationId) === request) request.timeoutRequest();
    }, request.requestTimeout + 1);
  };
  const settled = (original: (this: SocketRequestState, ...args: unknown[]) => void) =>
    function (this: SocketRequestState, ...args: unknown[]): void {
      if (this.idleFixDeadline !== undefined) {
        clearTimeout(this.idleFixDeadline);
        this.idleFixDeadline = undefined;
      }
      original.apply(this, args);
    };
  SocketRequest.prototype.completed = settled(SocketRequest.prototype.completed);
  SocketRequest.prototype.rejected = settled(SocketRequest.prototype.rejected);

  proto.idleFixApplied = true;
  return true;
}

/** Whether the fix is in place in this process (it patches kafkajs for every client). */
export function kafkajsIdleFixApplied(): boolean {
  const RequestQueue: unknown = require('kafkajs/src/network/requestQueue');
  return hasMethods<QueueMethods>(RequestQueue, ['scheduleCheckPendingRequests']) && RequestQueue.prototype.idleFixApplied === true;
}
