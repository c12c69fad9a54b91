import request from 'supertest';
import type { App } from '../../src/app';
import {
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  trustSessionDirectory,
  waitFor,
} from '../support/infra';
import { startRealApp } from '../support/apps';
import { TestClient } from '../support/ws-client';

/**
 * Read cursors, `read` and `receipt` frames and unread counts (api.md v1.1) on real Kafka,
 * PostgreSQL and Redis, with three in-process instances and the users' sockets spread over
 * them: the reader's other socket on another instance gets `read`, the other members get
 * `receipt`, GET /api/rooms shows the cursor on every instance, cursors only move forward,
 * a read past the end is refused, and receipts are thinned above RECEIPTS_MAX_ROOM_MEMBERS.
 */
describe('read cursors and receipts across three instances (real infrastructure)', () => {
  const topics = randomTopics(12);
  const apps: App[] = [];
  const password = 'correct horse battery';
  const sockets: TestClient[] = [];
  // Rooms of at most 3 members get receipts; the 4-member room below gets none.
  const env = { RECEIPTS_MAX_ROOM_MEMBERS: '3' };

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await trustSessionDirectory();
    for (let i = 0; i < 3; i++) apps.push(await startRealApp(topics, env));
    await waitFor('every instance owns partitions', () => apps.every((app) => app.bus.ownerStatus().partitions.length === 4), {
      timeoutMs: 60_000,
    });
  }, 150_000);

  afterAll(async () => {
    for (const s of sockets) await s.close();
    for (const app of apps) await app.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  const [a, b, c] = [0, 1, 2].map((i) => () => apps[i]!);
  const user = async (app: App, prefix: string): Promise<{ userId: string; token: string }> => {
    const userId = randomName(prefix);
    await request(app.http).post('/api/auth/register').send({ userId, password }).expect(201);
    const token = (await request(app.http).post('/api/auth/login').send({ userId, password }).expect(200)).body.token as string;
    return { userId, token };
  };
  const connect = async (app: App, token: string, name: string): Promise<TestClient> => {
    const s = await TestClient.connect(app.url(), token, name);
    sockets.push(s);
    return s;
  };
  const roomsOf = async (app: App, token: string) =>
    (await request(app.http).get('/api/rooms').set('Authorization', `Bearer ${token}`).expect(200)).body.rooms as {
      roomId: string;
      lastSeq: number;
      lastReadSeq: number;
      unread: number;
    }[];
  const roomOf = async (app: App, token: string, roomId: string) => (await roomsOf(app, token)).find((r) => r.roomId === roomId)!;
  const markRead = (app: App, token: string, roomId: string, body: unknown) =>
    request(app.http)
      .post(`/api/rooms/${encodeURIComponent(roomId)}/read`)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);
  const sendAll = async (sender: TestClient, roomId: string, n: number): Promise<void> => {
    const ids = Array.from({ length: n }, () => randomName('c'));
    for (const id of ids) sender.send({ type: 'send', roomId, clientMsgId: id, text: `text ${id}` });
    await waitFor(`${n} acks`, () => ids.every((id) => sender.of('ack').some((f) => f.clientMsgId === id)));
  };

  it('moves the cursor forward only, tells the reader’s other sockets and the other members, and counts unread on every instance', async () => {
    const [alice, bob, carol] = [await user(a(), 'alice'), await user(b(), 'bob'), await user(c(), 'carol')];
    const { body: room } = await request(a().http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ name: 'reads', members: [bob.userId, carol.userId] })
      .expect(201);
    const roomId = room.roomId as string;
    // Alice has two sockets on two instances; bob and carol one each, elsewhere.
    const alice1 = await connect(a(), alice.token, 'alice-1');
    const alice2 = await connect(b(), alice.token, 'alice-2');
    const bobWs = await connect(c(), bob.token, 'bob');
    const carolWs = await connect(b(), carol.token, 'carol');
    await sendAll(bobWs, roomId, 3);

    expect(await roomOf(c(), alice.token, roomId)).toMatchObject({ lastSeq: 3, lastReadSeq: 0, unread: 3 });

    // A `read` frame: the other socket (instance b) gets `read`, the members get `receipt`.
    alice1.send({ type: 'read', roomId, seq: 2 });
    await alice2.waitFor('read 2 on alice’s other socket', (f) => f.type === 'read' && f.roomId === roomId && f.seq === 2);
    const receipt = (f: { type: string }, seq: number) =>
      f.type === 'receipt' && (f as { userId?: string }).userId === alice.userId && (f as { seq?: number }).seq === seq;
    await bobWs.waitFor('receipt 2 at bob', (f) => receipt(f, 2));
    await carolWs.waitFor('receipt 2 at carol', (f) => receipt(f, 2));
    await waitFor('cursor 2 on every instance', async () => {
      const views = await Promise.all(apps.map((app) => roomOf(app, alice.token, roomId)));
      return views.every((v) => v.lastReadSeq === 2 && v.unread === 1);
    });
    // Bob's own unread count is his own: no cursor yet.
    expect(await roomOf(a(), bob.token, roomId)).toMatchObject({ lastReadSeq: 0, unread: 3 });

    // Backwards and equal reads change nothing and send nothing; REST waits for the owner,
    // so GET /api/rooms shows the cursor at once, and every socket of alice gets `read`.
    alice1.send({ type: 'read', roomId, seq: 1 });
    alice1.send({ type: 'read', roomId, seq: 2 });
    await markRead(c(), alice.token, roomId, { seq: 1 }).expect(204);
    await markRead(c(), alice.token, roomId, { seq: 3 }).expect(204);
    expect(await roomOf(a(), alice.token, roomId)).toMatchObject({ lastSeq: 3, lastReadSeq: 3, unread: 0 });
    await alice1.waitFor('read 3 (from REST) on the first socket', (f) => f.type === 'read' && f.seq === 3);
    await alice2.waitFor('read 3 on the second socket', (f) => f.type === 'read' && f.seq === 3);
    await bobWs.waitFor('receipt 3 at bob', (f) => receipt(f, 3));
    await carolWs.waitFor('receipt 3 at carol', (f) => receipt(f, 3));
    // One partition, one order: once 3 arrived, the lower reads were handled, and sent nothing.
    expect(alice1.of('read').map((f) => f.seq)).toEqual([3]);
    expect(alice2.of('read').map((f) => f.seq)).toEqual([2, 3]);
    expect(bobWs.of('receipt').map((f) => f.seq)).toEqual([2, 3]);
    expect(carolWs.of('receipt').map((f) => f.seq)).toEqual([2, 3]);
    // Nobody gets a receipt of their own read, and the reader no error.
    expect(alice1.of('receipt')).toEqual([]);
    expect(alice1.of('error')).toEqual([]);

    // Past the end: refused with READ_PAST_END over WebSocket and REST, and nothing moves.
    alice1.send({ type: 'read', roomId, seq: 4 });
    const refused = await alice1.waitFor('READ_PAST_END', (f) => f.type === 'error');
    expect(refused).toMatchObject({ type: 'error', code: 'READ_PAST_END', ref: roomId });
    const past = await markRead(b(), alice.token, roomId, { seq: 99 }).expect(400);
    expect(past.body.error.code).toBe('READ_PAST_END');
    await sendAll(bobWs, roomId, 1);
    expect(await roomOf(b(), alice.token, roomId)).toMatchObject({ lastSeq: 4, lastReadSeq: 3, unread: 1 });
    expect(alice2.of('read').map((f) => f.seq)).toEqual([2, 3]);
  });

  it('answers 403 to a non-member, 404 for an unknown room and 400 for a bad seq, changing nothing', async () => {
    const [alice, mallory] = [await user(a(), 'alice'), await user(b(), 'mallory')];
    const { body: room } = await request(a().http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ name: 'private' })
      .expect(201);
    const notMember = await markRead(b(), mallory.token, room.roomId, { seq: 0 }).expect(403);
    expect(notMember.body.error.code).toBe('NOT_A_MEMBER');
    const unknown = await markRead(c(), alice.token, randomName('nowhere'), { seq: 1 }).expect(404);
    expect(unknown.body.error.code).toBe('ROOM_NOT_FOUND');
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '1' }, { seq: 1, extra: true }]) {
      const bad = await markRead(a(), alice.token, room.roomId, body).expect(400);
      expect(bad.body.error.code).toBe('VALIDATION');
    }
    await request(a().http).post(`/api/rooms/${room.roomId}/read`).send({ seq: 0 }).expect(401);
    const malloryWs = await connect(c(), mallory.token, 'mallory');
    malloryWs.send({ type: 'read', roomId: room.roomId, seq: 0 });
    expect(await malloryWs.waitFor('NOT_A_MEMBER', (f) => f.type === 'error')).toMatchObject({ code: 'NOT_A_MEMBER', ref: room.roomId });
    expect(await roomOf(a(), alice.token, room.roomId)).toMatchObject({ lastReadSeq: 0, unread: 0 });
  });

  it('sends no receipts in a room over RECEIPTS_MAX_ROOM_MEMBERS, but still the reader’s own `read` and cursor', async () => {
    const people = [await user(a(), 'p0'), await user(b(), 'p1'), await user(c(), 'p2'), await user(a(), 'p3')];
    const [reader, writer] = [people[0]!, people[1]!];
    const create = async (members: typeof people) =>
      (
        await request(a().http)
          .post('/api/rooms')
          .set('Authorization', `Bearer ${reader.token}`)
          .send({ name: `room of ${members.length + 1}`, members: members.map((p) => p.userId) })
          .expect(201)
      ).body.roomId as string;
    const big = await create(people.slice(1)); // 4 members: over the limit of 3
    const small = await create([writer]); // 2 members
    const readerWs = await connect(b(), reader.token, 'reader');
    const readerRest = await connect(c(), reader.token, 'reader-2');
    const others = [
      await connect(c(), writer.token, 'writer'),
      await connect(a(), people[2]!.token, 'p2'),
      await connect(b(), people[3]!.token, 'p3'),
    ];
    await sendAll(others[0]!, big, 2);
    await sendAll(others[0]!, small, 1);

    readerWs.send({ type: 'read', roomId: big, seq: 2 });
    await readerRest.waitFor('read in the big room', (f) => f.type === 'read' && f.roomId === big && f.seq === 2);
    await waitFor('cursor in the big room', async () => (await roomOf(a(), reader.token, big)).lastReadSeq === 2);
    // Then a read in the small room: its receipt comes after the big room's would have (one
    // partition of the reader, one inbox of the writer's instance, in order).
    readerWs.send({ type: 'read', roomId: small, seq: 1 });
    await others[0]!.waitFor('receipt in the small room', (f) => f.type === 'receipt' && f.roomId === small);
    for (const o of others) expect(o.of('receipt').filter((f) => f.roomId === big)).toEqual([]);
  });
});
