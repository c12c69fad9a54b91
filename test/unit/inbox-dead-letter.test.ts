import pino from 'pino';
import { createMemoryBus } from '../../src/adapters/memory/memory-bus';
import { MemoryBroker, type StoredRecord } from '../../src/adapters/memory/memory-broker';
import { ChatError } from '../../src/domain/errors';
import { createMetrics } from '../../src/observability/metrics';
import { makeRecord, type InboxRecord } from '../../src/protocol/envelope';
import { Headers, dltTopicOf } from '../../src/protocol/headers';
import type { Bus, InboundRecord } from '../../src/ports/bus';
import { waitFor } from '../support/infra';

/**
 * Malformed records on the inbox and broadcast topics (what every instance reads) go to
 * the topic's DLT with the error in headers, and the consumer carries on with the next
 * record (issue 7, item 5). The bus contract suite covers the request topics.
 */
describe('inbox consumer: malformed records are dead-lettered, never fatal', () => {
  const topics = { login: 'login', chat: 'chat', inboxPrefix: 'inbox', ownerGroup: 'owners', broadcast: 'broadcast', partitions: 4 };
  let broker: MemoryBroker;
  let bus: Bus;
  let seen: InboundRecord<InboxRecord>[];
  let failOn: string | undefined;

  beforeEach(async () => {
    broker = new MemoryBroker();
    seen = [];
    failOn = undefined;
    bus = createMemoryBus({
      broker,
      instanceId: 'i1',
      topics,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics({ defaultMetrics: false }),
      backoff: { initialMs: 1, maxMs: 2, factor: 2 },
    });
    bus.openInbox(async (inbound) => {
      if (
        inbound.record.type === 'broadcast' &&
        inbound.record.payload.frame.type === 'announcement' &&
        inbound.record.payload.frame.text === failOn
      ) {
        throw new ChatError('VALIDATION', 'listener refused it');
      }
      seen.push(inbound);
    });
    await bus.start();
  });
  afterEach(async () => {
    await bus.stop();
  });

  const valid = (text: string): Buffer =>
    Buffer.from(JSON.stringify(makeRecord('broadcast', 'admin', { frame: { type: 'announcement', text } })));
  const malformed: [string, Buffer][] = [
    ['not JSON', Buffer.from('{{{ nope')],
    ['empty', Buffer.alloc(0)],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01])],
    ['JSON of the wrong shape', Buffer.from('{"hello":"world"}')],
    ['a JSON array', Buffer.from('[1,2,3]')],
    [
      'an unknown type',
      Buffer.from(
        JSON.stringify({ ...makeRecord('broadcast', 'admin', { frame: { type: 'announcement', text: 'x' } }), type: 'self.destruct' }),
      ),
    ],
    [
      'a request record on the inbox',
      Buffer.from(JSON.stringify(makeRecord('chat.typing', 'alice', { instanceId: 'i1', connectionId: 'c', roomId: 'r' }))),
    ],
    [
      'a relay with a bad frame',
      Buffer.from(
        JSON.stringify({
          ...makeRecord('relay', 'alice', { connectionIds: ['c'], frame: { type: 'pong' } }),
          payload: { connectionIds: 'c', frame: { type: 'evil' } },
        }),
      ),
    ],
    [
      'prototype-pollution keys',
      Buffer.from('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"type":"broadcast"}'),
    ],
    [
      'a huge version number',
      Buffer.from(JSON.stringify({ ...makeRecord('broadcast', 'admin', { frame: { type: 'announcement', text: 'x' } }), v: 1e308 })),
    ],
  ];
  const dlt = (topic: string): StoredRecord[] => {
    const out: StoredRecord[] = [];
    for (let p = 0; p < broker.partitionCount(dltTopicOf(topic)); p++) {
      for (let o = 0; o < broker.endOffset(dltTopicOf(topic), p); o++) out.push(broker.read(dltTopicOf(topic), p, o)!);
    }
    return out;
  };

  it.each([
    ['inbox', 'inbox.i1'],
    ['broadcast', 'broadcast'],
  ])('on the %s topic: every malformed record goes to the DLT, the valid ones around them are handled', async (_name, topic) => {
    broker.append(topic, { key: 'k', value: valid('before'), headers: {} });
    for (const [, value] of malformed) broker.append(topic, { key: 'k', value, headers: { 'x-test': 'kept' } });
    broker.append(topic, { key: 'k', value: valid('after'), headers: {} });

    await waitFor(
      'the record after the malformed ones',
      () =>
        seen.some(
          (s) => s.record.type === 'broadcast' && s.record.payload.frame.type === 'announcement' && s.record.payload.frame.text === 'after',
        ),
      { timeoutMs: 5_000 },
    );
    expect(
      seen.map((s) =>
        s.record.type === 'broadcast' && s.record.payload.frame.type === 'announcement' ? s.record.payload.frame.text : s.record.type,
      ),
    ).toEqual(['before', 'after']);
    const dead = dlt(topic);
    expect(dead).toHaveLength(malformed.length);
    for (const [i, record] of dead.entries()) {
      expect(record.value.equals(malformed[i]![1])).toBe(true);
      expect(record.headers).toMatchObject({
        [Headers.dltOriginalTopic]: topic,
        [Headers.dltErrorCode]: 'VALIDATION',
        [Headers.dltAttempts]: '1',
        'x-test': 'kept',
      });
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await bus.health()).toMatchObject({ ok: true });
  });

  it('dead-letters a record its listener refuses for good, and goes on', async () => {
    failOn = 'poison';
    broker.append('inbox.i1', { key: 'k', value: valid('poison'), headers: {} });
    broker.append('inbox.i1', { key: 'k', value: valid('fine'), headers: {} });
    await waitFor('the record after the poison one', () => seen.length === 1, { timeoutMs: 5_000 });
    const dead = dlt('inbox.i1');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers).toMatchObject({ [Headers.dltErrorCode]: 'VALIDATION', [Headers.dltErrorMessage]: 'listener refused it' });
  });
});
