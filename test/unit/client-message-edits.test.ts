import { createChatConnection } from '../../client/src/chat-connection';
import { createMessageTimeline } from '../../client/src/message-timeline';
import type { Message } from '../../client/src/protocol';
import { fakeSockets } from '../support/fake-web-socket';

/** The client package's edit and delete (api.md v1.1): the frames, their retries, and the timeline that applies them. */
const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  roomId: 'r1',
  seq,
  senderId: 'alice',
  text: `text ${seq}`,
  ts: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
  clientMsgId: `c${seq}`,
  ...extra,
});

describe('client connection: edit and delete', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('sends edit and delete frames with a clientMsgId, re-sends them after a reconnect, and settles each once on its ack', async () => {
    const fake = fakeSockets();
    let n = 0;
    const connection = createChatConnection({
      url: 'http://chat.test',
      token: () => 'tok',
      webSocket: fake.factory,
      backoff: { minDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 },
      pingIntervalMs: 0,
      newClientMsgId: () => `cm-${++n}`,
      rooms: { r1: 0 },
    });
    const delivered: Message[] = [];
    connection.on('message', (m) => delivered.push(m));
    connection.connect();
    await jest.advanceTimersByTimeAsync(0);
    fake.last().accept();
    const edited = connection.edit('r1', 'm1', 'new text');
    const deleted = connection.delete('r1', 'm2');
    await jest.advanceTimersByTimeAsync(0);
    expect(fake.last().sentOf('edit')).toEqual([{ type: 'edit', roomId: 'r1', messageId: 'm1', text: 'new text', clientMsgId: 'cm-1' }]);
    expect(fake.last().sentOf('delete')).toEqual([{ type: 'delete', roomId: 'r1', messageId: 'm2', clientMsgId: 'cm-2' }]);
    expect(connection.pendingSends()).toBe(2);

    fake.last().drop(1006);
    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    expect(
      fake
        .last()
        .sentOf('edit')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-1']);
    expect(
      fake
        .last()
        .sentOf('delete')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-2']);
    fake.last().push({ type: 'message', message: msg(1) });
    fake.last().push({ type: 'message', message: msg(2) });
    fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(3, { edits: 'm1', text: 'new text', clientMsgId: 'cm-1' }) });
    fake.last().push({ type: 'error', code: 'NOT_MESSAGE_SENDER', message: 'not yours', ref: 'cm-2' });
    await expect(edited).resolves.toMatchObject({ seq: 3, edits: 'm1' });
    await expect(deleted).rejects.toMatchObject({ code: 'NOT_MESSAGE_SENDER', retriable: false });
    expect(delivered.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(connection.pendingSends()).toBe(0);
    connection.close();
  });

  it('refuses an edit to an empty or too long text at once', async () => {
    const connection = createChatConnection({ url: 'http://chat.test', token: () => 'tok', webSocket: fakeSockets().factory });
    connection.connect();
    await expect(connection.edit('r1', 'm1', '')).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(connection.edit('r1', 'm1', 'x'.repeat(4_001))).rejects.toMatchObject({ code: 'VALIDATION' });
    connection.close();
  });
});

describe('message timeline', () => {
  it('applies edits and deletes in seq order: one entry per original with its current text', () => {
    const t = createMessageTimeline();
    expect(t.apply(msg(1))).toMatchObject({ id: 'm1', text: 'text 1' });
    t.apply(msg(2, { senderId: 'bob' }));
    expect(t.apply(msg(3, { edits: 'm1', text: 'first edit' }))).toMatchObject({
      id: 'm1',
      seq: 1,
      text: 'first edit',
      editedAt: msg(3).ts,
    });
    t.apply(msg(4, { edits: 'm1', text: 'second edit' }));
    // A repeat, or an older event seen late, changes nothing.
    expect(t.apply(msg(3, { edits: 'm1', text: 'first edit' }))).toBeUndefined();
    expect(t.apply(msg(1))).toBeUndefined();
    expect(t.messages('r1').map((m) => [m.id, m.text])).toEqual([
      ['m1', 'second edit'],
      ['m2', 'text 2'],
    ]);
    expect(t.apply(msg(5, { edits: 'm2', text: '', deleted: true, senderId: 'bob' }))).toMatchObject({ id: 'm2', deleted: true, text: '' });
    expect(t.apply(msg(6, { edits: 'm2', text: 'after delete', senderId: 'bob' }))).toBeUndefined();
    expect(t.get('m2')).toMatchObject({ deleted: true, text: '' });
  });

  it('holds an event whose original is not loaded yet, and applies it when the original comes (paging back)', () => {
    const t = createMessageTimeline();
    expect(t.apply(msg(7, { edits: 'm1', text: 'edited' }))).toBeUndefined();
    expect(t.apply(msg(9, { edits: 'm1', text: 'edited again' }))).toBeUndefined();
    expect(t.apply(msg(8, { edits: 'm1', text: 'older edit' }))).toBeUndefined();
    expect(t.apply(msg(1))).toMatchObject({ text: 'edited again' });
    expect(t.apply(msg(10, { edits: 'm2', text: '', deleted: true }))).toBeUndefined();
    expect(t.apply(msg(11, { edits: 'm2', text: 'too late' }))).toBeUndefined();
    expect(t.apply(msg(2))).toMatchObject({ deleted: true, text: '' });
    t.clear('r1');
    expect(t.messages('r1')).toEqual([]);
  });
});
