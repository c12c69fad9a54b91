import pino from 'pino';
import { createInboxNotices } from '../../src/adapters/kafka/inbox-notices';
import { InboxTopicRecordSchema, isInboxNotice } from '../../src/protocol/envelope';
import type { WireRecord } from '../../src/adapters/kafka/kafka-producer';

const logger = pino({ level: 'silent' });

describe('inbox notices', () => {
  const setup = () => {
    const sent: WireRecord[] = [];
    const calls: string[] = [];
    const notices = createInboxNotices({
      instanceId: 'me',
      broadcastTopic: 'chat.broadcast',
      inboxTopic: (id) => `inbox.${id}`,
      presence: { retire: (t) => void calls.push(`retire ${t}`), revive: (t) => void calls.push(`revive ${t}`) },
      send: async (r) => void sent.push(r),
      noticeMs: 1234,
      sleep: async (ms) => void calls.push(`sleep ${ms}`),
      logger,
    });
    /** What a consumer of the broadcast topic would read back. */
    const readBack = (r: WireRecord) => {
      const record = InboxTopicRecordSchema.parse(JSON.parse(String(r.value)));
      if (!isInboxNotice(record)) throw new Error(`not a notice: ${record.type}`);
      return record;
    };
    return { notices, sent, calls, readBack };
  };

  it('announces a retirement on the broadcast topic, then waits the notice time before the caller deletes', async () => {
    const { notices, sent, calls, readBack } = setup();
    await notices.retiring('gone-1');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('chat.broadcast');
    expect(readBack(sent[0]!)).toMatchObject({ type: 'inbox.retired', payload: { instanceId: 'gone-1' } });
    expect(calls).toEqual(['sleep 1234']);
  });

  it("retires another instance's inbox when read, revives it when it opens again, and ignores notices about itself", async () => {
    const { notices, sent, calls, readBack } = setup();
    const other = createInboxNotices({
      instanceId: 'gone-1',
      broadcastTopic: 'chat.broadcast',
      inboxTopic: (id) => `inbox.${id}`,
      presence: { retire: () => undefined, revive: () => undefined },
      send: async (r) => void sent.push(r),
      sleep: async () => undefined,
      logger,
    });
    await other.retiring('gone-1');
    await other.opened();
    await notices.opened(); // about 'me'
    for (const r of sent) notices.handle(readBack(r));
    expect(calls).toEqual(['retire inbox.gone-1', 'revive inbox.gone-1']);
  });

  it('does not wait when the announcement cannot be written (the caller then keeps the topic)', async () => {
    const calls: string[] = [];
    const notices = createInboxNotices({
      instanceId: 'me',
      broadcastTopic: 'b',
      inboxTopic: (id) => id,
      presence: { retire: () => undefined, revive: () => undefined },
      send: async () => Promise.reject(new Error('not enough replicas')),
      sleep: async (ms) => void calls.push(`sleep ${ms}`),
      logger,
    });
    await expect(notices.retiring('x')).rejects.toThrow('not enough replicas');
    expect(calls).toEqual([]);
  });
});
