import request from 'supertest';
import type { App } from '../../src/app';
import type { ServerFrame } from '../../src/protocol/frames';
import type { Message } from '../../src/protocol/message';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { startRealApp } from '../support/apps';
import { TestClient } from '../support/ws-client';
import { openStream } from '../support/sse-client';

const messagesOf = (c: { frames: ServerFrame[] }, roomId: string): Message[] =>
  c.frames.flatMap((f) => (f.type === 'message' && f.message.roomId === roomId ? [f.message] : []));

/**
 * Edit and delete (api.md v1.1) on real Kafka, PostgreSQL and Redis with three in-process
 * instances: the events reach the other members live (WebSocket and SSE, on other
 * instances), every refusal has its code and writes nothing, a retried edit is acked
 * again and stored once, and a client that resumes on another instance — or reads the
 * history — gets the events in seq order.
 */
describe('edit and delete across instances (real infrastructure)', () => {
  const topics = randomTopics(12);
  const apps: App[] = [];
  const password = 'correct horse battery';
  let [a, b, c] = [undefined, undefined, undefined] as unknown as [App, App, App];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    for (let i = 0; i < 3; i++) apps.push(await startRealApp(topics));
    [a, b, c] = apps as [App, App, App];
    await waitFor('all three own partitions', () => apps.every((app) => app.bus.ownerStatus().partitions.length === 4), {
      timeoutMs: 60_000,
    });
  }, 150_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  const user = async (app: App, userId: string): Promise<string> => {
    await request(app.http).post('/api/auth/register').send({ userId, password }).expect(201);
    return (await request(app.http).post('/api/auth/login').send({ userId, password }).expect(200)).body.token as string;
  };

  it('delivers edits and deletes live, refuses what is not allowed with codes, and replays them by resume and history', async () => {
    const [alice, bob, carol] = [randomName('alice'), randomName('bob'), randomName('carol')];
    const [ta, tb, tc] = [await user(a, alice), await user(b, bob), await user(c, carol)];
    const { body: room } = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${ta}`)
      .send({ name: 'edits', members: [bob, carol] })
      .expect(201);
    const roomId = room.roomId as string;
    const aliceWs = await TestClient.connect(a.url(), ta, 'alice');
    const aliceTab2 = await TestClient.connect(b.url(), ta, 'alice-tab2');
    const bobWs = await TestClient.connect(b.url(), tb, 'bob');
    const carolSse = openStream(c.url(), tc);
    await waitFor('carol ready', () => carolSse.frames.find((f) => f.type === 'ready'));

    // seq 1, 2 by alice; 3 by bob.
    aliceWs.send({ type: 'send', roomId, clientMsgId: 's1', text: 'lunch at 12?' });
    await aliceWs.waitFor('ack s1', (f) => f.type === 'ack' && f.clientMsgId === 's1');
    aliceWs.send({ type: 'send', roomId, clientMsgId: 's2', text: 'wrong room' });
    await aliceWs.waitFor('ack s2', (f) => f.type === 'ack' && f.clientMsgId === 's2');
    bobWs.send({ type: 'send', roomId, clientMsgId: 's1', text: 'sure' });
    await bobWs.waitFor('ack bob s1', (f) => f.type === 'ack' && f.clientMsgId === 's1');
    const acked = (client: TestClient, clientMsgId: string): Message =>
      client.of('ack').find((f) => f.clientMsgId === clientMsgId)!.message;
    const [m1, m2, m3] = [acked(aliceWs, 's1'), acked(aliceWs, 's2'), acked(bobWs, 's1')];
    expect([m1.seq, m2.seq, m3.seq]).toEqual([1, 2, 3]);

    // An edit with a clientMsgId: an ack for the asking socket, a `message` for everyone else.
    aliceWs.send({ type: 'edit', roomId, messageId: m1.id, text: 'lunch at 12:30?', clientMsgId: 'e1' });
    const editAck = (await aliceWs.waitFor('ack e1', (f) => f.type === 'ack' && f.clientMsgId === 'e1')) as Extract<
      ServerFrame,
      { type: 'ack' }
    >;
    expect(editAck.message).toMatchObject({ roomId, seq: 4, senderId: alice, edits: m1.id, text: 'lunch at 12:30?', clientMsgId: 'e1' });
    const edit = editAck.message;
    for (const [who, frames] of [
      ['bob', bobWs],
      ['alice tab 2', aliceTab2],
      ['carol (SSE)', carolSse],
    ] as const)
      await waitFor(`${who} gets the edit`, () => messagesOf(frames, roomId).find((m) => m.seq === 4));
    expect(messagesOf(bobWs, roomId).find((m) => m.seq === 4)).toEqual(edit);

    // A delete without a clientMsgId: the asking socket gets the `message` (no ack).
    aliceWs.send({ type: 'delete', roomId, messageId: m2.id });
    const deletion = await waitFor('alice gets the delete', () => messagesOf(aliceWs, roomId).find((m) => m.seq === 5));
    expect(deletion).toMatchObject({ seq: 5, edits: m2.id, deleted: true, text: '' });
    await waitFor('bob gets the delete', () => messagesOf(bobWs, roomId).find((m) => m.seq === 5 && m.deleted === true));
    await waitFor('carol gets the delete', () => messagesOf(carolSse, roomId).find((m) => m.seq === 5 && m.deleted === true));

    // Refusals: each its code, with a ref, and nothing written.
    const refusals: [TestClient, Record<string, unknown>, string, string][] = [
      [bobWs, { type: 'edit', roomId, messageId: m1.id, text: 'mine now', clientMsgId: 'x1' }, 'NOT_MESSAGE_SENDER', 'x1'],
      [bobWs, { type: 'delete', roomId, messageId: m1.id }, 'NOT_MESSAGE_SENDER', m1.id],
      [aliceWs, { type: 'edit', roomId, messageId: 'no-such-message', text: 'x', clientMsgId: 'x2' }, 'MESSAGE_NOT_FOUND', 'x2'],
      [aliceWs, { type: 'edit', roomId, messageId: m2.id, text: 'back', clientMsgId: 'x3' }, 'MESSAGE_DELETED', 'x3'],
      [aliceWs, { type: 'delete', roomId, messageId: m2.id, clientMsgId: 'x4' }, 'MESSAGE_DELETED', 'x4'],
      [aliceWs, { type: 'edit', roomId, messageId: edit.id, text: 'edit of an edit', clientMsgId: 'x5' }, 'MESSAGE_NOT_EDITABLE', 'x5'],
      [aliceWs, { type: 'edit', roomId, messageId: m1.id, text: '', clientMsgId: 'x6' }, 'VALIDATION', ''],
      [aliceWs, { type: 'edit', roomId, messageId: m1.id, text: 'x'.repeat(4_001), clientMsgId: 'x7' }, 'VALIDATION', ''],
    ];
    for (const [client, frame, code, ref] of refusals) {
      const before = client.of('error').length;
      client.send(frame);
      const error = await waitFor(`${code} for ${JSON.stringify(frame).slice(0, 80)}`, () => client.of('error')[before]);
      expect(error.code).toBe(code);
      if (ref !== '') expect(error.ref).toBe(ref);
    }
    // A retried edit (same clientMsgId) gets the same ack again and stores nothing.
    aliceWs.send({ type: 'edit', roomId, messageId: m1.id, text: 'lunch at 12:30?', clientMsgId: 'e1' });
    await waitFor('the repeated ack', () => aliceWs.of('ack').filter((f) => f.clientMsgId === 'e1').length === 2);
    expect(aliceWs.of('ack').filter((f) => f.clientMsgId === 'e1')[1]!.message).toEqual(edit);
    const { body: list } = await request(b.http).get('/api/rooms').set('Authorization', `Bearer ${tb}`).expect(200);
    expect(list.rooms.find((r: { roomId: string }) => r.roomId === roomId).lastSeq).toBe(5);
    // Nothing more reached bob: alice's 1, 2 and the two events (his own 3 came as his ack).
    expect(messagesOf(bobWs, roomId).map((m) => m.seq)).toEqual([1, 2, 4, 5]);

    // Bob resumes on ANOTHER instance (c, his first socket was on b): the events in seq order.
    const bobOnC = await TestClient.connect(c.url(), tb, 'bob-on-c');
    bobOnC.send({ type: 'resume', rooms: { [roomId]: 0 } });
    await waitFor('resume on c', () => messagesOf(bobOnC, roomId).length === 5);
    const replayed = messagesOf(bobOnC, roomId);
    expect(replayed.map((m) => [m.seq, m.edits ?? null, m.deleted ?? false, m.text])).toEqual([
      [1, null, false, 'lunch at 12:30?'],
      [2, null, true, ''],
      [3, null, false, 'sure'],
      [4, m1.id, false, 'lunch at 12:30?'],
      [5, m2.id, true, ''],
    ]);
    expect(replayed[3]).toEqual(edit);
    expect(replayed[0]!.editedAt).toBe(edit.ts);
    const carolFromThree = await TestClient.connect(a.url(), tc, 'carol-on-a');
    carolFromThree.send({ type: 'resume', rooms: { [roomId]: 3 } });
    await waitFor('resume after 3', () => messagesOf(carolFromThree, roomId).length === 2);
    expect(messagesOf(carolFromThree, roomId).map((m) => m.seq)).toEqual([4, 5]);

    // The history endpoint carries the same, on any instance.
    const { body: history } = await request(c.http).get(`/api/rooms/${roomId}/messages`).set('Authorization', `Bearer ${tc}`).expect(200);
    expect(history.messages).toEqual(replayed);

    carolSse.close();
    for (const client of [aliceWs, aliceTab2, bobWs, bobOnC, carolFromThree]) await client.close();
  }, 120_000);
});
