import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { handleChange } from '../../src/owner/change-handler';
import type { Inbound, OwnerContext } from '../../src/owner/owner-context';
import { makeRecord, type RecordOf } from '../../src/protocol/envelope';
import type { ServerFrame } from '../../src/protocol/frames';
import type { OutboundRecord } from '../../src/ports/bus';
import { appendOne } from '../support/append-one';
import { ownerContextFor } from '../support/owner-context';

/**
 * chat.edit / chat.delete at the sender's owner (src/owner/change-handler.ts): what each
 * socket gets — an ack for the asking socket when the frame had a clientMsgId, else the
 * `message`; the `message` for the sender's other sockets and the other members — what a
 * redelivered record and a refusal produce, on the in-memory store and bus.
 */
const T0 = 1_900_000_000_000;

/** Every frame the outputs carry, as [instance, connections, frame type, detail]. */
const framesOf = (records: readonly OutboundRecord[]): [string, string[], string, string][] =>
  records.flatMap((r) => {
    const parts = r.record.type === 'relay' ? [r.record.payload] : r.record.type === 'relay.batch' ? r.record.payload.parts : [];
    return parts.map((p): [string, string[], string, string] => [r.topic, p.connectionIds, p.frame.type, detail(p.frame)]);
  });
const detail = (f: ServerFrame): string =>
  f.type === 'message' || f.type === 'ack'
    ? `seq ${f.message.seq}${f.message.deleted === true ? ' deleted' : ''}`
    : f.type === 'error'
      ? `${f.code} ${f.ref ?? ''}`
      : '';

async function setup() {
  const mirror = createMemorySessionMirror({ ttlMs: 60_000, now: () => T0 });
  await mirror.put('alice', { connectionId: 'a1', instanceId: 'gw-1', seenAt: T0 }, 0);
  await mirror.put('alice', { connectionId: 'a2', instanceId: 'gw-2', seenAt: T0 }, 0);
  await mirror.put('bob', { connectionId: 'b1', instanceId: 'gw-3', seenAt: T0 }, 0);
  const outputs: Promise<readonly OutboundRecord[]>[] = [];
  const ctx: OwnerContext = { ...ownerContextFor({ mirror, now: T0 }), publish: (out) => void outputs.push(Promise.resolve(out)) };
  ctx.users.own([0]);
  for (const u of ['alice', 'bob']) await ctx.store.createUser({ userId: u, displayName: u, passwordHash: 'x' });
  await ctx.store.createRoom({ roomId: 'r1', name: 'r1', createdBy: 'alice', members: ['bob'] });
  const original = (await appendOne(ctx.store, { id: 'm1', roomId: 'r1', senderId: 'alice', clientMsgId: 'c1', text: 'hi' })).message;
  const handle = async (record: RecordOf<'chat.edit'> | RecordOf<'chat.delete'>) => {
    outputs.length = 0;
    const inbound: Inbound = { topic: 'chat', partition: 0, offset: '0', key: record.userId, record, headers: {} };
    await handleChange(ctx, inbound, record);
    return framesOf((await Promise.all(outputs)).flat());
  };
  return { ctx, original, handle };
}

describe('owner: edit and delete records', () => {
  it('acks an edit with a clientMsgId to the asking socket and sends the event to every other socket', async () => {
    const { ctx, original, handle } = await setup();
    const ref = { instanceId: 'gw-1', connectionId: 'a1' };
    const edit = makeRecord('chat.edit', 'alice', { ...ref, roomId: 'r1', messageId: original.id, text: 'hello', clientMsgId: 'e1' });
    expect(await handle(edit)).toEqual([
      ['inbox.gw-1', ['a1'], 'ack', 'seq 2'],
      ['inbox.gw-2', ['a2'], 'message', 'seq 2'],
      ['inbox.gw-3', ['b1'], 'message', 'seq 2'],
    ]);
    // The same record again (a redelivery): the same event, its deliveries produced again, no new seq.
    expect(await handle(edit)).toEqual([
      ['inbox.gw-1', ['a1'], 'ack', 'seq 2'],
      ['inbox.gw-2', ['a2'], 'message', 'seq 2'],
      ['inbox.gw-3', ['b1'], 'message', 'seq 2'],
    ]);
    // A client retry (a new record, same clientMsgId): only the ack again.
    const retry = makeRecord('chat.edit', 'alice', { ...ref, roomId: 'r1', messageId: original.id, text: 'hello', clientMsgId: 'e1' });
    expect(await handle(retry)).toEqual([['inbox.gw-1', ['a1'], 'ack', 'seq 2']]);
    expect((await ctx.store.getRoom('r1'))?.lastSeq).toBe(2);
  });

  it('sends a delete without a clientMsgId to the asking socket as a message; refusals go to the asking socket only', async () => {
    const { ctx, original, handle } = await setup();
    const bobEdits = makeRecord('chat.edit', 'bob', {
      instanceId: 'gw-3',
      connectionId: 'b1',
      roomId: 'r1',
      messageId: original.id,
      text: 'mine',
    });
    expect(await handle(bobEdits)).toEqual([['inbox.gw-3', ['b1'], 'error', `NOT_MESSAGE_SENDER ${original.id}`]]);
    const remove = makeRecord('chat.delete', 'alice', { instanceId: 'gw-1', connectionId: 'a1', roomId: 'r1', messageId: original.id });
    expect(await handle(remove)).toEqual([
      ['inbox.gw-1', ['a1'], 'message', 'seq 2 deleted'],
      ['inbox.gw-2', ['a2'], 'message', 'seq 2 deleted'],
      ['inbox.gw-3', ['b1'], 'message', 'seq 2 deleted'],
    ]);
    const again = makeRecord('chat.delete', 'alice', {
      instanceId: 'gw-1',
      connectionId: 'a1',
      roomId: 'r1',
      messageId: original.id,
      clientMsgId: 'd2',
    });
    expect(await handle(again)).toEqual([['inbox.gw-1', ['a1'], 'error', 'MESSAGE_DELETED d2']]);
    expect((await ctx.store.getRoom('r1'))?.lastSeq).toBe(2);
    expect(await ctx.metrics.sendsRefused.get()).toMatchObject({
      values: expect.arrayContaining([expect.objectContaining({ labels: { code: 'MESSAGE_DELETED' }, value: 1 })]),
    });
  });
});
