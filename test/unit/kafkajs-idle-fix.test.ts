import { applyKafkajsIdleFix } from '../../src/adapters/kafka/kafkajs-idle-fix';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}
type QueueClass = new (options: Record<string, unknown>) => Queue;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const makeQueue = (): Queue => {
  const RequestQueue = require('kafkajs/src/network/requestQueue') as QueueClass;
  return new RequestQueue({
    instrumentationEmitter: { emit: () => undefined },
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'none:0',
    logger: silent,
    isConnected: () => true,
  });
};

describe('kafkajs idle fix', () => {
  beforeAll(() => {
    expect(applyKafkajsIdleFix()).toBe(true);
  });

  it('an idle request queue schedules no timer (kafkajs 2.2.4 re-armed a 1 ms one forever)', () => {
    const q = makeQueue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('a throttled queue with requests waiting still schedules its check', () => {
    const q = makeQueue();
    q.pending.push({});
    q.throttledUntil = Date.now() + 60_000;
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(q.throttleCheckTimeoutId ?? undefined);
  });

  it('is applied once, however many buses are made', () => {
    expect(applyKafkajsIdleFix()).toBe(true);
    const q = makeQueue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});
