import { applyKafkajsIdleFix, kafkajsIdleFixApplied } from '../../src/adapters/kafka/kafkajs-idle-fix';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  inflight: Map<number, unknown>;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  destroy(): void;
  push(request: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
}
interface Entry {
  correlationId: number;
  apiName: string;
  apiKey: number;
  apiVersion: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}
type QueueClass = new (options: Record<string, unknown>) => Queue;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const makeQueue = ({ enforceRequestTimeout = false, requestTimeout = 30_000 } = {}): Queue => {
  const RequestQueue = require('kafkajs/src/network/requestQueue') as QueueClass;
  return new RequestQueue({
    instrumentationEmitter: { emit: () => undefined },
    maxInFlightRequests: null,
    requestTimeout,
    enforceRequestTimeout,
    clientId: 'test',
    broker: 'none:0',
    logger: silent,
    isConnected: () => true,
  });
};

// First in the file: jest gives each file its own kafkajs modules, and nothing here has patched them yet.
test('kafkajsIdleFixApplied says whether this process has the fix', () => {
  expect(kafkajsIdleFixApplied()).toBe(false);
  expect(applyKafkajsIdleFix()).toBe(true);
  expect(kafkajsIdleFixApplied()).toBe(true);
});

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

  describe('request timeouts: a timer per request in flight, not a 100 ms interval per connection', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    const request = (correlationId: number) => {
      const outcome: { value?: unknown; error?: Error } = {};
      const entry: Entry = {
        correlationId,
        apiName: 'Fetch',
        apiKey: 1,
        apiVersion: 11,
        resolve: (value) => (outcome.value = value),
        reject: (error) => (outcome.error = error),
      };
      return { entry, outcome };
    };

    it('a connected, idle queue has no timer at all', () => {
      const q = makeQueue({ enforceRequestTimeout: true });
      q.scheduleRequestTimeoutCheck();
      expect(q.requestTimeoutIntervalId).toBeUndefined();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('a request in flight past its timeout is timed out, as kafkajs would', () => {
      const q = makeQueue({ enforceRequestTimeout: true, requestTimeout: 1_000 });
      q.scheduleRequestTimeoutCheck();
      const { entry, outcome } = request(7);
      q.push({ entry, expectResponse: true, sendRequest: () => undefined });
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(999);
      expect(outcome.error).toBeUndefined();
      jest.advanceTimersByTime(10);
      expect(outcome.error?.name).toBe('KafkaJSRequestTimeoutError');
      expect(q.inflight.size).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('a request answered in time clears its timer', () => {
      const q = makeQueue({ enforceRequestTimeout: true, requestTimeout: 1_000 });
      q.scheduleRequestTimeoutCheck();
      const { entry, outcome } = request(8);
      q.push({ entry, expectResponse: true, sendRequest: () => undefined });
      q.fulfillRequest({ correlationId: 8, payload: Buffer.alloc(0), size: 0 });
      expect(outcome.value).toBeDefined();
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(5_000);
      expect(outcome.error).toBeUndefined();
    });

    it('a queue that does not enforce timeouts, or was destroyed, arms none', () => {
      const off = makeQueue({ enforceRequestTimeout: false });
      off.scheduleRequestTimeoutCheck();
      off.push({ entry: request(9).entry, expectResponse: true, sendRequest: () => undefined });
      const destroyed = makeQueue({ enforceRequestTimeout: true });
      destroyed.scheduleRequestTimeoutCheck();
      destroyed.destroy();
      destroyed.push({ entry: request(10).entry, expectResponse: true, sendRequest: () => undefined });
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it('is applied once, however many buses are made', () => {
    expect(applyKafkajsIdleFix()).toBe(true);
    const q = makeQueue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});
