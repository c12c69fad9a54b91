import request from 'supertest';
import type { App } from '../../src/app';
import { partitionForKey } from '../../src/domain/partitioner';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { startRealApp } from '../support/apps';
import { TestClient } from '../support/ws-client';
import { openStream } from '../support/sse-client';

/**
 * SSE, announcements and the session mirror on real Kafka, PostgreSQL and Redis, with
 * two in-process instances.
 */
describe('SSE, announcements and owner hand-over (real infrastructure)', () => {
  const topics = randomTopics(12);
  const admin = randomName('admin');
  const apps: App[] = [];
  const password = 'correct horse battery';
  let a: App;
  let b: App;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    a = await startRealApp(topics, { ADMIN_USER_IDS: admin });
    apps.push(a);
    b = await startRealApp(topics, { ADMIN_USER_IDS: admin });
    apps.push(b);
    await waitFor('both own partitions', () => a.bus.ownerStatus().partitions.length === 6 && b.bus.ownerStatus().partitions.length === 6, {
      timeoutMs: 45_000,
    });
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  const user = async (app: App, userId: string): Promise<string> => {
    await request(app.http).post('/api/auth/register').send({ userId, password }).expect(201);
    return (await request(app.http).post('/api/auth/login').send({ userId, password }).expect(200)).body.token as string;
  };

  it('streams the same frames over SSE, and announcements reach every connection on every instance', async () => {
    const alice = randomName('alice');
    const bob = randomName('bob');
    const [ta, tb, tadmin] = [await user(a, alice), await user(b, bob), await user(a, admin)];
    const { body: room } = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${ta}`)
      .send({ name: 'sse', members: [bob] })
      .expect(201);
    const stream = openStream(b.url(), tb);
    await waitFor('sse ready', () => stream.frames.find((f) => f.type === 'ready'));
    const ws = await TestClient.connect(a.url(), ta, 'alice');
    ws.send({ type: 'send', roomId: room.roomId, clientMsgId: 'c1', text: 'over sse' });
    await waitFor('message on the stream', () => stream.frames.find((f) => f.type === 'message' && f.message.text === 'over sse'));

    await request(a.http).post('/api/admin/announcements').set('Authorization', `Bearer ${ta}`).send({ text: 'nope' }).expect(403);
    await request(b.http)
      .post('/api/admin/announcements')
      .set('Authorization', `Bearer ${tadmin}`)
      .send({ text: 'maintenance at noon' })
      .expect(202);
    await waitFor('announcement on ws (instance a)', () =>
      ws.frames.find((f) => f.type === 'announcement' && f.text === 'maintenance at noon'),
    );
    await waitFor('announcement on sse (instance b)', () =>
      stream.frames.find((f) => f.type === 'announcement' && f.text === 'maintenance at noon'),
    );
    stream.close();
    await ws.close();
  });

  it("a new owner loads the user's sessions from the Redis mirror after a rebalance", async () => {
    const sender = randomName('sender');
    // A receiver owned by instance b, with its socket on instance a.
    let receiver = '';
    for (let i = 0; receiver === ''; i++) {
      const candidate = randomName(`recv${i}`);
      if (b.bus.ownerStatus().partitions.includes(partitionForKey(candidate, 12))) receiver = candidate;
    }
    const [ts, tr] = [await user(a, sender), await user(a, receiver)];
    const { body: room } = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${ts}`)
      .send({ name: 'handover', members: [receiver] })
      .expect(201);
    const recv = await TestClient.connect(a.url(), tr, 'receiver');
    const send = await TestClient.connect(a.url(), ts, 'sender');
    send.send({ type: 'send', roomId: room.roomId, clientMsgId: 'before', text: 'before' });
    await recv.waitFor('before', (f) => f.type === 'message' && f.message.text === 'before');

    // Instance b (the receiver's owner) leaves; a takes every partition and must find the
    // receiver's socket through the mirror, not from b's memory.
    await b.stop();
    await waitFor('a owns everything', () => a.bus.ownerStatus().partitions.length === 12, { timeoutMs: 45_000 });
    send.send({ type: 'send', roomId: room.roomId, clientMsgId: 'after', text: 'after' });
    await recv.waitFor('after the hand-over', (f) => f.type === 'message' && f.message.text === 'after', 30_000);
    await recv.close();
    await send.close();
  }, 120_000);
});
