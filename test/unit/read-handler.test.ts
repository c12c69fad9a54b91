import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { UnavailableError } from '../../src/domain/errors';
import type { OwnerContext } from '../../src/owner/owner-context';
import { handleRead } from '../../src/owner/read-handler';
import { makeRecord, type RequestRecord } from '../../src/protocol/envelope';
import { Headers, type RecordHeaders } from '../../src/protocol/headers';
import type { InboundRecord, OutboundRecord } from '../../src/ports/bus';
import type { SessionMirror } from '../../src/ports/session-mirror';
import { ownerContextFor } from '../support/owner-context';

const T0 = 1_900_000_000_000;

/**
 * chat.read at the reader's owner (src/owner/read-handler.ts), on the in-memory store and
 * mirror: what it publishes for a read from a socket and from REST, for a read that does
 * not move the cursor, a refusal, thinning, and a directory that cannot answer.
 */
async function setup({ mirror, receiptsMaxRoomMembers = 50 }: { mirror?: SessionMirror; receiptsMaxRoomMembers?: number } = {}) {
  const sessions = mirror ?? createMemorySessionMirror({ ttlMs: 60_000, now: () => T0 });
  const base = ownerContextFor({ mirror: sessions, now: T0 });
  const published: OutboundRecord[][] = [];
  const ctx: OwnerContext = {
    ...base,
    limits: { ...base.limits, receiptsMaxRoomMembers },
    publish: (output) => {
      if (Array.isArray(output)) published.push([...(output as readonly OutboundRecord[])]);
      else throw new Error('read-handler publishes ready output');
    },
  };
  ctx.users.own([0]);
  for (const userId of ['alice', 'bob', 'carol']) await ctx.store.createUser({ userId, displayName: userId, passwordHash: 'x' });
  const room = await ctx.store.createRoom({ roomId: 'r1', name: 'r1', createdBy: 'alice', members: ['bob', 'carol'] });
  for (let i = 1; i <= 3; i++)
    await ctx.store.appendMessages([{ id: `m${i}`, roomId: room.roomId, senderId: 'bob', clientMsgId: `c${i}`, text: 't' }]);
  const put = (u: string, c: string, i: string) => sessions.put(u, { connectionId: c, instanceId: i, seenAt: T0 }, 0);
  await put('alice', 'a1', 'gw-1');
  await put('alice', 'a2', 'gw-2');
  await put('bob', 'b1', 'gw-3');
  await put('carol', 'c1', 'gw-1');
  return { ctx, published };
}

let offset = 0;
const inbound = (record: RequestRecord, headers: RecordHeaders = {}): InboundRecord<RequestRecord> => ({
  topic: 'chat',
  partition: 0,
  offset: String(offset++),
  key: record.userId,
  record,
  headers,
});
const fromSocket = (seq: number) => makeRecord('chat.read', 'alice', { roomId: 'r1', seq, instanceId: 'gw-1', connectionId: 'a1' });
const fromRest = (seq: number, roomId = 'r1') => makeRecord('chat.read', 'alice', { roomId, seq });
const restHeaders = { [Headers.replyTopic]: 'inbox.gw-9', [Headers.correlationId]: 'corr-1' };

/** [topic, type, what] of each record. */
const summary = (records: readonly OutboundRecord[]) =>
  records.map((r) => {
    const rec = r.record;
    switch (rec.type) {
      case 'relay':
        return [r.topic, rec.payload.frame, rec.payload.connectionIds];
      case 'deliver':
        return [r.topic, r.key, rec.payload.frame];
      case 'chat.read.reply':
        return [r.topic, rec.payload, r.headers?.[Headers.correlationId]];
      default:
        return [r.topic, rec.type];
    }
  });

describe('handleRead', () => {
  it('from a socket: `read` to the reader’s other sockets, `receipt` to the other members, nothing to the reading socket', async () => {
    const { ctx, published } = await setup();
    const record = fromSocket(2);
    await handleRead(ctx, inbound(record), record);
    expect(published.map(summary)).toEqual([
      [
        ['inbox.gw-2', { type: 'read', roomId: 'r1', seq: 2 }, ['a2']],
        ['inbox.gw-3', { type: 'receipt', roomId: 'r1', userId: 'alice', seq: 2 }, ['b1']],
        ['inbox.gw-1', { type: 'receipt', roomId: 'r1', userId: 'alice', seq: 2 }, ['c1']],
      ],
    ]);
    expect(await ctx.store.readCursors('alice', ['r1'])).toEqual(new Map([['r1', 2]]));
  });

  it('publishes nothing for a read at or below the cursor (a redelivered record is harmless)', async () => {
    const { ctx, published } = await setup();
    const record = fromSocket(2);
    await handleRead(ctx, inbound(record), record);
    await handleRead(ctx, inbound(record), record);
    const lower = fromSocket(1);
    await handleRead(ctx, inbound(lower), lower);
    expect(published).toHaveLength(1);
    expect(await ctx.metrics.readsHandled.get()).toMatchObject({
      values: expect.arrayContaining([
        { labels: { outcome: 'moved' }, value: 1 },
        { labels: { outcome: 'unchanged' }, value: 2 },
      ]),
    });
  });

  it('from REST: answers the waiting gateway and tells every socket of the reader', async () => {
    const { ctx, published } = await setup();
    const record = fromRest(3);
    await handleRead(ctx, inbound(record, restHeaders), record);
    const [out] = published.map(summary);
    expect(out![0]).toEqual(['inbox.gw-9', { ok: true, lastReadSeq: 3 }, 'corr-1']);
    expect(out!.slice(1, 3)).toEqual([
      ['inbox.gw-1', { type: 'read', roomId: 'r1', seq: 3 }, ['a1']],
      ['inbox.gw-2', { type: 'read', roomId: 'r1', seq: 3 }, ['a2']],
    ]);
    // Unchanged: the answer still comes (with the cursor as it is), nothing else.
    const again = fromRest(1);
    await handleRead(ctx, inbound(again, restHeaders), again);
    expect(summary(published[1]!)).toEqual([['inbox.gw-9', { ok: true, lastReadSeq: 3 }, 'corr-1']]);
  });

  it('refuses a read past the end: an error frame to the socket, or a reply with the code, and no cursor', async () => {
    const { ctx, published } = await setup();
    const socket = fromSocket(4);
    await handleRead(ctx, inbound(socket), socket);
    const rest = fromRest(4);
    await handleRead(ctx, inbound(rest, restHeaders), rest);
    const unknown = fromRest(1, 'nowhere');
    await handleRead(ctx, inbound(unknown, restHeaders), unknown);
    expect(published.map(summary)).toEqual([
      [['inbox.gw-1', { type: 'error', code: 'READ_PAST_END', message: expect.any(String), ref: 'r1' }, ['a1']]],
      [['inbox.gw-9', { ok: false, code: 'READ_PAST_END', message: expect.any(String) }, 'corr-1']],
      [['inbox.gw-9', { ok: false, code: 'ROOM_NOT_FOUND', message: expect.any(String) }, 'corr-1']],
    ]);
    expect(await ctx.store.readCursors('alice', ['r1'])).toEqual(new Map());
  });

  it('sends no receipts in a room with more members than the limit, but still the reader’s `read`', async () => {
    const { ctx, published } = await setup({ receiptsMaxRoomMembers: 2 });
    const record = fromSocket(1);
    await handleRead(ctx, inbound(record), record);
    expect(published.map(summary)).toEqual([[['inbox.gw-2', { type: 'read', roomId: 'r1', seq: 1 }, ['a2']]]]);
  });

  it('sends receipts through the members’ owners when the session directory cannot answer', async () => {
    const inner = createMemorySessionMirror({ ttlMs: 60_000, now: () => T0 });
    const mirror: SessionMirror = { ...inner, lookup: async () => Promise.reject(new UnavailableError('redis down')) };
    const { ctx, published } = await setup({ mirror });
    const record = fromSocket(3);
    await handleRead(ctx, inbound(record), record);
    const receipt = { type: 'receipt', roomId: 'r1', userId: 'alice', seq: 3 };
    expect(published.map(summary)).toEqual([
      [
        ['inbox.gw-2', { type: 'read', roomId: 'r1', seq: 3 }, ['a2']],
        ['chat', 'bob', receipt],
        ['chat', 'carol', receipt],
      ],
    ]);
  });

  it('fails retriably (for the bus to retry) when the store is unavailable, publishing nothing', async () => {
    const { ctx, published } = await setup();
    const broken: OwnerContext = { ...ctx, store: { ...ctx.store, markRead: () => Promise.reject(new UnavailableError('db down')) } };
    const record = fromSocket(1);
    await expect(handleRead(broken, inbound(record), record)).rejects.toBeInstanceOf(UnavailableError);
    expect(published).toEqual([]);
  });
});
