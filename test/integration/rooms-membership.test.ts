import request from 'supertest';
import type { App } from '../../src/app';
import type { ServerFrame } from '../../src/protocol/frames';
import { startRealApp } from '../support/apps';
import { deleteTopics, randomName, randomTopics, requireKafka, requireRedis, waitFor } from '../support/infra';
import { migratedScratchDatabase } from '../support/scratch-database';
import { TestClient } from '../support/ws-client';

type RoomFrame = Extract<ServerFrame, { type: 'room' }>;

/**
 * Direct rooms and membership changes (api.md v1.1) on real PostgreSQL, Kafka and Redis,
 * with two in-process instances of one cluster: DMs asked from both sides at once, on both
 * instances, give one room; a rename reaches the members' sockets as a `room` frame; a
 * removed member gets no more messages on any socket of either instance, is told it was
 * removed, and gets 403 on the history; the paged room list walks every room once.
 */
describe('rooms v1.1: direct rooms and membership across instances (real infrastructure)', () => {
  const PARTITIONS = 4;
  const topics = randomTopics(PARTITIONS);
  const password = 'correct horse battery';
  const apps: App[] = [];
  const clients: TestClient[] = [];
  let db: Awaited<ReturnType<typeof migratedScratchDatabase>>;
  let a: App;
  let b: App;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requireRedis()]);
    db = await migratedScratchDatabase('rooms_it');
    const env = { DATABASE_URL: db.url, KAFKA_PARTITIONS: String(PARTITIONS), OUTBOX_POLL_INTERVAL_MS: '200' };
    a = await startRealApp(topics, env);
    apps.push(a);
    b = await startRealApp(topics, env);
    apps.push(b);
    await waitFor(
      'the two instances share the partitions',
      () => a.bus.ownerStatus().partitions.length + b.bus.ownerStatus().partitions.length === PARTITIONS,
      { timeoutMs: 90_000 },
    );
  }, 150_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const app of apps) await app.stop();
    await deleteTopics(topics.login.split('.')[0]!);
    await db?.drop();
  }, 60_000);

  const register = async (app: App, prefix: string): Promise<{ userId: string; token: string }> => {
    const userId = randomName(prefix);
    await request(app.http).post('/api/auth/register').send({ userId, password }).expect(201);
    const token = (await request(app.http).post('/api/auth/login').send({ userId, password }).expect(200)).body.token as string;
    return { userId, token };
  };
  const connect = async (app: App, user: { userId: string; token: string }): Promise<TestClient> => {
    const client = await TestClient.connect(app.url(), user.token, user.userId);
    clients.push(client);
    return client;
  };
  const bearer = (user: { token: string }) => `Bearer ${user.token}`;

  it('gives one direct room when both users ask at the same moment on different instances', async () => {
    for (let round = 0; round < 3; round++) {
      const [alice, bob] = [await register(a, 'alice'), await register(b, 'bob')];
      const [wsAlice, wsBob] = [await connect(a, alice), await connect(b, bob)];
      const answers = await Promise.all([
        request(a.http).post('/api/dms').set('Authorization', bearer(alice)).send({ userId: bob.userId }),
        request(b.http).post('/api/dms').set('Authorization', bearer(bob)).send({ userId: alice.userId }),
        request(b.http).post('/api/dms').set('Authorization', bearer(alice)).send({ userId: bob.userId }),
        request(a.http).post('/api/dms').set('Authorization', bearer(bob)).send({ userId: alice.userId }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
      const roomId = answers[0]!.body.roomId as string;
      for (const r of answers)
        expect(r.body).toEqual({
          roomId,
          kind: 'dm',
          name: [alice.userId, bob.userId].sort().join(', '),
          members: [alice.userId, bob.userId].sort(),
        });
      for (const ws of [wsAlice, wsBob])
        await ws.waitFor('the member hears of the new DM', (f) => f.type === 'room' && f.room.roomId === roomId && f.event === 'created');
      const listed = (await request(b.http).get('/api/rooms').set('Authorization', bearer(alice)).expect(200)).body.rooms;
      expect(listed).toEqual([expect.objectContaining({ roomId, kind: 'dm' })]);
      // Both can write in it, and each hears the other.
      wsAlice.send({ type: 'send', roomId, clientMsgId: 'hi-1', text: 'hi bob' });
      await wsBob.waitFor('bob gets alice’s DM', (f) => f.type === 'message' && f.message.roomId === roomId);
    }
  }, 180_000);

  it('a rename reaches every member as a room frame; a removed member gets nothing more on any socket and 403 on history', async () => {
    const [owner, bob, carol] = [await register(a, 'owner'), await register(a, 'bob'), await register(b, 'carol')];
    const wsOwner = await connect(a, owner);
    const [wsBobA, wsBobB] = [await connect(a, bob), await connect(b, bob)];
    const wsCarol = await connect(b, carol);
    const { body: room } = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', bearer(owner))
      .send({ name: 'team', members: [bob.userId, carol.userId] })
      .expect(201);
    const roomId = room.roomId as string;

    const renamed = await request(b.http)
      .patch(`/api/rooms/${roomId}`)
      .set('Authorization', bearer(carol))
      .send({ name: 'the team' })
      .expect(200);
    expect(renamed.body).toMatchObject({ roomId, name: 'the team', kind: 'group' });
    for (const ws of [wsOwner, wsBobA, wsBobB, wsCarol]) {
      const frame = (await ws.waitFor(
        'the rename arrives',
        (f) => f.type === 'room' && f.event === 'renamed' && f.room.roomId === roomId,
      )) as RoomFrame;
      expect(frame).toMatchObject({ by: carol.userId, room: { name: 'the team', kind: 'group' } });
    }

    // Bob hears a message before the removal, on both sockets.
    wsOwner.send({ type: 'send', roomId, clientMsgId: 'before', text: 'before' });
    for (const ws of [wsBobA, wsBobB])
      await ws.waitFor('bob gets the message before', (f) => f.type === 'message' && f.message.text === 'before');

    await request(b.http).delete(`/api/rooms/${roomId}/members/${bob.userId}`).set('Authorization', bearer(owner)).expect(204);
    // From here on, nothing of the room reaches bob.
    const bobSeenBefore = [wsBobA, wsBobB].map((ws) => ws.of('message').length);
    for (const ws of [wsBobA, wsBobB]) {
      const told = (await ws.waitFor(
        'bob is told he was removed',
        (f) => f.type === 'room' && f.event === 'member.removed' && f.member === bob.userId,
      )) as RoomFrame;
      expect(told).toMatchObject({ by: owner.userId, room: { roomId, members: [carol.userId, owner.userId].sort() } });
    }
    await wsCarol.waitFor('carol hears of the removal', (f) => f.type === 'room' && f.event === 'member.removed');
    for (let i = 0; i < 5; i++) wsOwner.send({ type: 'send', roomId, clientMsgId: `after-${i}`, text: `after ${i}` });
    wsOwner.send({ type: 'typing', roomId });
    await wsCarol.waitFor('carol gets the last message', (f) => f.type === 'message' && f.message.text === 'after 4');
    await wsCarol.waitFor('carol gets the typing notice', (f) => f.type === 'typing' && f.roomId === roomId);
    // Bob's own send, typing and resume are refused.
    wsBobB.send({ type: 'send', roomId, clientMsgId: 'bob-after', text: 'let me in' });
    await wsBobB.waitFor('bob’s send is refused', (f) => f.type === 'error' && f.ref === 'bob-after' && f.code === 'NOT_A_MEMBER');
    wsBobA.send({ type: 'resume', rooms: { [roomId]: 0 } });
    await wsBobA.waitFor('bob’s resume is refused', (f) => f.type === 'error' && f.ref === roomId && f.code === 'NOT_A_MEMBER');
    // A marker through another room: what bob could still have got would be there by now.
    const { body: marker } = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', bearer(owner))
      .send({ name: 'marker', members: [bob.userId] })
      .expect(201);
    wsOwner.send({ type: 'send', roomId: marker.roomId, clientMsgId: 'marker', text: 'marker' });
    for (const ws of [wsBobA, wsBobB]) await ws.waitFor('bob gets the marker', (f) => f.type === 'message' && f.message.text === 'marker');
    [wsBobA, wsBobB].forEach((ws, i) => {
      const after = ws.of('message').slice(bobSeenBefore[i]);
      expect(after.filter((f) => f.message.roomId === roomId)).toEqual([]);
      expect(ws.of('typing').filter((f) => f.roomId === roomId)).toEqual([]);
    });
    for (const app of [a, b]) {
      const res = await request(app.http).get(`/api/rooms/${roomId}/messages`).set('Authorization', bearer(bob)).expect(403);
      expect(res.body.error.code).toBe('NOT_A_MEMBER');
    }
    const left = (await request(a.http).get('/api/rooms').set('Authorization', bearer(bob)).expect(200)).body.rooms;
    expect(left.map((r: { roomId: string }) => r.roomId)).toEqual([marker.roomId]);
  }, 180_000);

  it('pages GET /api/rooms: every room exactly once, whichever instance serves each page', async () => {
    const [alice, bob] = [await register(a, 'alice'), await register(b, 'bob')];
    const made = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const creator = i % 3 === 0 ? bob : alice;
      const { body } = await request(i % 2 === 0 ? a.http : b.http)
        .post('/api/rooms')
        .set('Authorization', bearer(creator))
        .send({ name: `room ${i}`, members: creator === bob ? [alice.userId] : [] })
        .expect(201);
      made.add(body.roomId as string);
    }
    made.add(
      (await request(a.http).post('/api/dms').set('Authorization', bearer(alice)).send({ userId: bob.userId }).expect(201)).body.roomId,
    );
    const walked: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const app = pages % 2 === 0 ? a : b;
      const res = await request(app.http)
        .get(`/api/rooms?limit=5${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        .set('Authorization', bearer(alice))
        .expect(200);
      expect(res.body.rooms.length).toBeLessThanOrEqual(5);
      walked.push(...res.body.rooms.map((r: { roomId: string }) => r.roomId));
      cursor = res.body.nextCursor;
      pages++;
      // A room joined between pages comes after every cursor (it is the newest): listed once, at the end.
      if (pages === 1) {
        const late = await request(b.http)
          .post('/api/rooms')
          .set('Authorization', bearer(bob))
          .send({ name: 'late', members: [alice.userId] });
        made.add(late.body.roomId as string);
      }
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(walked).toHaveLength(made.size);
    expect(new Set(walked)).toEqual(made);
  }, 120_000);
});
