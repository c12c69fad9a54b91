import pino from 'pino';
import { createInboxPresence } from '../../src/adapters/kafka/inbox-presence';
import { createKafkaPublisher } from '../../src/adapters/kafka/kafka-publisher';
import type { WireRecord } from '../../src/adapters/kafka/kafka-producer';
import { createOwnInbox } from '../../src/adapters/kafka/own-inbox';
import type { InboundRecord, OutboundRecord } from '../../src/ports/bus';
import { makeRecord, type InboxRecord } from '../../src/protocol/envelope';
import { createMetrics } from '../../src/observability/metrics';

/**
 * The bus's publish path (kafka-publisher.ts) over a fake producer and a fake topic
 * listing: what reaches Kafka, what is held or dropped for inboxes, what is counted, and
 * when own-inbox records are handed over.
 */

const logger = pino({ level: 'silent' });
const PREFIX = 'inbox.';
const OWN = `${PREFIX}me`;

const relayTo = (topic: string, n: number): OutboundRecord => ({
  topic,
  key: 'alice',
  record: makeRecord('relay', 'alice', { connectionIds: [`c${n}`], frame: { type: 'pong' } }),
});
const revoked = (n: number): OutboundRecord => ({
  topic: 'broadcast',
  key: `user-${n}`,
  record: makeRecord('token.revoked', `user-${n}`, { jti: `jti-${n}` }),
});

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

async function setup({ listed = [OWN, `${PREFIX}other`], connected = true }: { listed?: string[]; connected?: boolean } = {}) {
  const topics = new Set(listed);
  let listings = 0;
  const written: WireRecord[][] = [];
  let next: { promise: Promise<void> } | undefined;
  const producer = {
    isConnected: () => connected,
    async publish(batch: readonly WireRecord[]): Promise<void> {
      written.push([...batch]);
      const gate = next;
      next = undefined;
      if (gate !== undefined) await gate.promise;
    },
  };
  let clock = 0;
  const inboxPresence = createInboxPresence({
    listTopics: () => {
      listings++;
      return Promise.resolve([...topics]);
    },
    isInbox: (t) => t.startsWith(PREFIX),
    absentGraceMs: 100,
    relistMs: 10,
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
  });
  const delivered: InboundRecord<InboxRecord>[] = [];
  const ownInbox = createOwnInbox({
    topic: OWN,
    listener: () => async (r) => void delivered.push(r),
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
  });
  // What the listing shows is known before the first publish, as on a running instance.
  await inboxPresence.absent(listed);
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = createKafkaPublisher({ producer, ownInbox, inboxPresence, isInboxTopic: (t) => t.startsWith(PREFIX), metrics, logger });
  return {
    publisher,
    written,
    delivered,
    inboxPresence,
    topics,
    listings: () => listings,
    /** The next producer.publish waits on this. */
    holdNextWrite: () => (next = deferred()) as ReturnType<typeof deferred>,
    metric: async (name: string) => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(name)),
  };
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('kafka publisher', () => {
  it('writes the records it is given as JSON with their set headers, and counts them by type', async () => {
    const s = await setup();
    const r: OutboundRecord = { ...revoked(1), headers: { kafka_correlationId: 'c1', kafka_replyTopic: undefined } };
    await s.publisher.publish([r]);
    expect(s.written).toEqual([
      [{ topic: 'broadcast', key: 'user-1', value: JSON.stringify(r.record), headers: { kafka_correlationId: 'c1' } }],
    ]);
    expect(await s.metric('chat_records_produced_total')).toEqual(['chat_records_produced_total{type="token.revoked"} 1']);
  });

  it('refuses a publish holding one invalid record before anything is written, counting every record as VALIDATION', async () => {
    const s = await setup();
    const bad = { topic: 'broadcast', key: 'user-2', record: makeRecord('token.revoked', 'user-2', { jti: '' }) };
    await expect(s.publisher.publish([revoked(1), bad])).rejects.toMatchObject({ code: 'VALIDATION', retriable: false });
    expect(s.written).toEqual([]);
    expect(await s.metric('chat_produce_failures_total')).toEqual(['chat_produce_failures_total{code="VALIDATION"} 2']);
  });

  it('fails retriably while the producer is not connected, and counts the records', async () => {
    const s = await setup({ connected: false });
    await expect(s.publisher.publish([revoked(1), revoked(2)])).rejects.toMatchObject({ code: 'UNAVAILABLE', retriable: true });
    expect(await s.metric('chat_produce_failures_total')).toEqual(['chat_produce_failures_total{code="UNAVAILABLE"} 2']);
  });

  it('hands own-inbox records over only after the rest of their publish is written, and never to Kafka', async () => {
    const s = await setup();
    const gate = s.holdNextWrite();
    const published = s.publisher.publish([relayTo(OWN, 1), relayTo(`${PREFIX}other`, 2)]);
    await flush();
    expect(s.written.map((b) => b.map((w) => w.topic))).toEqual([[`${PREFIX}other`]]);
    expect(s.delivered).toEqual([]);
    gate.resolve();
    await published;
    expect(s.delivered.map((d) => d.record.payload)).toEqual([{ connectionIds: ['c1'], frame: { type: 'pong' } }]);
  });

  it('delivers no own-inbox record when the write fails, rejects retriably, and looks at the inbox listing again next time', async () => {
    const s = await setup();
    await s.publisher.publish([relayTo(`${PREFIX}other`, 1)]);
    const listingsBefore = s.listings();
    const gate = s.holdNextWrite();
    const published = s.publisher.publish([relayTo(OWN, 2), relayTo(`${PREFIX}other`, 3)]);
    gate.reject(new Error('broker went away'));
    await expect(published).rejects.toMatchObject({ retriable: true });
    expect(s.delivered).toEqual([]);
    expect(await s.metric('chat_produce_failures_total')).toEqual([
      expect.stringMatching(/^chat_produce_failures_total\{code="[A-Z_]+"\} 1$/),
    ]);
    // The inbox that was believed to exist is listed again before the next write to it.
    await s.publisher.publish([relayTo(`${PREFIX}other`, 4)]);
    expect(s.listings()).toBeGreaterThan(listingsBefore);
  });

  it('drops records for a retired inbox, counts them, and writes the rest', async () => {
    const s = await setup();
    s.inboxPresence.retire(`${PREFIX}other`);
    await s.publisher.publish([relayTo(`${PREFIX}other`, 1), revoked(1)]);
    expect(s.written.map((b) => b.map((w) => w.topic))).toEqual([['broadcast']]);
    expect(await s.metric('chat_inbox_gone_total')).toEqual(['chat_inbox_gone_total{type="relay"} 1']);
  });

  it('holds records for an inbox not listed yet apart and off the caller: the publish answers for the rest, the held ones follow once it is listed', async () => {
    const s = await setup({ listed: [OWN] });
    await s.publisher.publish([relayTo(`${PREFIX}new`, 1), revoked(1)]);
    // The caller's publish wrote only the records it could be sure of.
    expect(s.written.map((b) => b.map((w) => w.topic))).toEqual([['broadcast']]);
    s.topics.add(`${PREFIX}new`);
    for (let i = 0; i < 20 && s.written.length < 2; i++) await flush();
    expect(s.written.map((b) => b.map((w) => w.topic))).toEqual([['broadcast'], [`${PREFIX}new`]]);
  });

  it('drops held records once their inbox has stayed unlisted for the grace period', async () => {
    const s = await setup({ listed: [OWN] });
    await s.publisher.publish([relayTo(`${PREFIX}gone`, 1)]);
    for (let i = 0; i < 50 && (await s.metric('chat_inbox_gone_total')).length === 0; i++) await flush();
    expect(s.written).toEqual([]);
    expect(await s.metric('chat_inbox_gone_total')).toEqual(['chat_inbox_gone_total{type="relay"} 1']);
  });
});
