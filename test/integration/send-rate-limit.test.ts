import request from 'supertest';
import type { App } from '../../src/app';
import { createTokenService } from '../../src/auth/token-service';
import { TEST_JWT_SECRET, startRealApp } from '../support/apps';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { TestClient } from '../support/ws-client';

/**
 * The per-user send rate limit (SEND_RATE_PER_SEC / SEND_BURST, issue #17 item 3), kept by
 * the user's owner: a user sending from two sockets on two instances is limited as one
 * user. Over the limit each send gets an `error` frame with RATE_LIMITED and its
 * clientMsgId as `ref`, and nothing over the limit is stored. The rate is set so low that
 * no token comes back during the test: exactly the burst passes.
 */
const BURST = 3;

describe('send rate limit across instances (real Kafka, PostgreSQL, Redis)', () => {
  const topics = randomTopics(3);
  const tokens = createTokenService({ secret: TEST_JWT_SECRET, issuer: 'keyed-chat', audience: 'keyed-chat-clients', ttlSeconds: 600 });
  let a: App;
  let b: App;
  const open: TestClient[] = [];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    const env = { SEND_RATE_PER_SEC: '0.001', SEND_BURST: String(BURST) };
    a = await startRealApp(topics, env);
    b = await startRealApp(topics, env);
    await waitFor(
      'both instances own partitions',
      () => a.bus.ownerStatus().partitions.length > 0 && b.bus.ownerStatus().partitions.length > 0,
      { timeoutMs: 60_000 },
    );
  }, 120_000);
  afterAll(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await a?.stop();
    await b?.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  it('limits a user on two sockets on two instances as one user: RATE_LIMITED with the ref, nothing over the limit stored', async () => {
    const userId = randomName('u');
    await a.store.createUser({ userId, displayName: userId, passwordHash: 'unused' });
    const token = tokens.issue(userId).token;
    const created = await request(a.http)
      .post('/api/rooms')
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'limits', members: [] })
      .expect(201);
    const roomId = String(created.body.roomId);
    const onA = await TestClient.connect(a.url(), token, 'on-a');
    const onB = await TestClient.connect(b.url(), token, 'on-b');
    open.push(onA, onB);

    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      for (const [client, name] of [
        [onA, 'a'],
        [onB, 'b'],
      ] as const) {
        const clientMsgId = `${name}-${i}`;
        sent.push(clientMsgId);
        client.send({ type: 'send', roomId, clientMsgId, text: `message ${clientMsgId}` });
      }
    }
    const answered = (): { acks: string[]; limited: string[] } => {
      const acks = [...onA.of('ack'), ...onB.of('ack')].map((f) => f.clientMsgId);
      const limited = [...onA.of('error'), ...onB.of('error')].filter((f) => f.code === 'RATE_LIMITED').map((f) => f.ref ?? '(no ref)');
      return { acks, limited };
    };
    await waitFor('an answer to every send', () => answered().acks.length + answered().limited.length === sent.length, {
      timeoutMs: 30_000,
    });
    const { acks, limited } = answered();
    expect(acks).toHaveLength(BURST);
    expect(new Set([...acks, ...limited])).toEqual(new Set(sent));
    expect(limited.every((ref) => sent.includes(ref))).toBe(true);
    // Both instances' sockets were limited by the one owner: some refusals on each side.
    expect(onA.of('error').length + onB.of('error').length).toBe(sent.length - BURST);
    const stored = await a.store.listMessages(roomId, { limit: 100 });
    expect(stored.map((m) => m.clientMsgId).sort()).toEqual([...acks].sort());
  }, 60_000);
});
