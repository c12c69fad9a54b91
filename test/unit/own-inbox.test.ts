import pino from 'pino';
import { createOwnInbox } from '../../src/adapters/kafka/own-inbox';
import type { InboundRecord, OutboundRecord } from '../../src/ports/bus';
import { makeRecord, type InboxRecord } from '../../src/protocol/envelope';
import { createMetrics } from '../../src/observability/metrics';

/** Records an instance sends to its own inbox: in-process, in order, never ahead of their publish. */

const logger = pino({ level: 'silent' });
const OWN = 'inbox.me';

const relay = (n: number): OutboundRecord => ({
  topic: OWN,
  key: 'alice',
  record: makeRecord('relay', 'alice', { connectionIds: [`c${n}`], frame: { type: 'pong' } }),
});
const chatSend = (): OutboundRecord => ({
  topic: 'chat-request',
  key: 'bob',
  record: makeRecord('session.closed', 'bob', { connectionId: 'c9', instanceId: 'other' }),
});

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function setup(listen = true) {
  const seen: InboundRecord<InboxRecord>[] = [];
  let failNext = false;
  const listener = async (r: InboundRecord<InboxRecord>): Promise<void> => {
    if (failNext) {
      failNext = false;
      throw new Error('listener bug');
    }
    seen.push(r);
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const inbox = createOwnInbox({ topic: OWN, listener: () => (listen ? listener : undefined), metrics, logger });
  return { inbox, seen, metrics, failOnce: () => (failNext = true) };
}
const ids = (records: readonly InboundRecord<InboxRecord>[]) => records.map((r) => r.record.id);

describe('own inbox', () => {
  it('splits own-inbox records from the rest, and validates them as inbox records', () => {
    const { inbox } = setup();
    const a = relay(1);
    const b = chatSend();
    const { local, remote } = inbox.split([a, b]);
    expect(local.map((l) => l.record.id)).toEqual([a.record.id]);
    expect(remote).toEqual([b]);
    expect(() => inbox.split([{ ...b, topic: OWN }])).toThrow(/refusing to send a session.closed record to an inbox/);
  });

  it('produces everything while the inbox has no listener yet (before it first joined)', () => {
    const { inbox } = setup(false);
    const a = relay(1);
    expect(inbox.split([a])).toEqual({ local: [], remote: [a] });
  });

  it("delivers a publish's own records only after the rest of it is produced", async () => {
    const { inbox, seen } = setup();
    const produced = deferred();
    const a = relay(1);
    const done = inbox.deliverAfter(produced.promise, inbox.split([a, chatSend()]).local);
    await Promise.resolve();
    expect(seen).toHaveLength(0);
    produced.resolve();
    await done;
    expect(ids(seen)).toEqual([a.record.id]);
  });

  it('a later publish cannot overtake an earlier one still waiting on Kafka', async () => {
    const { inbox, seen } = setup();
    const first = deferred();
    const a = relay(1);
    const b = relay(2);
    const one = inbox.deliverAfter(first.promise, inbox.split([a]).local);
    const two = inbox.deliverAfter(Promise.resolve(), inbox.split([b]).local);
    await Promise.resolve();
    expect(seen).toHaveLength(0);
    first.resolve();
    await Promise.all([one, two]);
    expect(ids(seen)).toEqual([a.record.id, b.record.id]);
  });

  it('a failed produce delivers nothing of its publish, rejects it, and does not block later ones', async () => {
    const { inbox, seen } = setup();
    const a = relay(1);
    const b = relay(2);
    const one = inbox.deliverAfter(Promise.reject(new Error('broker down')), inbox.split([a]).local);
    const two = inbox.deliverAfter(Promise.resolve(), inbox.split([b]).local);
    await expect(one).rejects.toThrow('broker down');
    await two;
    expect(ids(seen)).toEqual([b.record.id]);
  });

  it('a listener failure is counted, not thrown: the output was written, only its relay failed', async () => {
    const { inbox, seen, metrics, failOnce } = setup();
    failOnce();
    const a = relay(1);
    const b = relay(2);
    await inbox.deliverAfter(Promise.resolve(), inbox.split([a, b]).local);
    expect(ids(seen)).toEqual([b.record.id]);
    const failed = (await metrics.recordsConsumed.get()).values.find((v) => v.labels['outcome'] === 'failed');
    expect(failed?.value).toBe(1);
    const local = (await metrics.inboxLocal.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(local).toBe(1);
  });
});
