import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { App } from '../../src/app';
import { createTokenService } from '../../src/auth/token-service';
import { CloseCodes } from '../../src/protocol/close-codes';
import { TEST_JWT_SECRET, startRealApp } from '../support/apps';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { TestClient } from '../support/ws-client';

/**
 * The socket caps (issue #17), on two instances over the real Kafka, PostgreSQL and Redis:
 * per client IP and per instance, refused before the upgrade by the instance; per user,
 * across both instances, refused by the user's owner with 4008. Sockets already open keep
 * working every time.
 */
const PER_IP = 3;
const PER_INSTANCE = 6;
const PER_USER = 2;

describe('connection caps (real Kafka, PostgreSQL, Redis)', () => {
  const topics = randomTopics(3);
  const tokens = createTokenService({ secret: TEST_JWT_SECRET, issuer: 'keyed-chat', audience: 'keyed-chat-clients', ttlSeconds: 600 });
  const env = {
    WS_MAX_CONNECTIONS_PER_IP: String(PER_IP),
    WS_MAX_CONNECTIONS: String(PER_INSTANCE),
    WS_MAX_CONNECTIONS_PER_USER: String(PER_USER),
  };
  let a: App;
  let b: App;
  const open: TestClient[] = [];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    a = await startRealApp(topics, env);
    b = await startRealApp(topics, env);
    await waitFor(
      'both instances own partitions',
      () =>
        a.bus.ownerStatus().partitions.length + b.bus.ownerStatus().partitions.length === 3 && a.bus.ownerStatus().partitions.length > 0,
      { timeoutMs: 60_000 },
    );
  }, 120_000);
  afterAll(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await a?.stop();
    await b?.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  /** A client IP of its own (X-Forwarded-For from loopback is trusted by default). */
  const newIp = (): string => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;
  const newUser = async (): Promise<string> => {
    const userId = randomName('u');
    await a.store.createUser({ userId, displayName: userId, passwordHash: 'unused' });
    return userId;
  };
  const connect = async (app: App, userId: string, ip: string): Promise<TestClient> => {
    const client = await TestClient.connect(app.url(), tokens.issue(userId).token, randomName('c'), { headers: { 'x-forwarded-for': ip } });
    open.push(client);
    return client;
  };
  /** One handshake: opened, or the HTTP answer it got instead. */
  const handshake = (
    app: App,
    userId: string,
    ip: string,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; ws?: WebSocket }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${app.url().replace(/^http/, 'ws')}/ws`, {
        headers: { authorization: `Bearer ${tokens.issue(userId).token}`, 'x-forwarded-for': ip },
      });
      ws.on('open', () => resolve({ status: 101, headers: {}, body: '', ws }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      ws.on('error', reject);
    });
  const stillServed = async (client: TestClient): Promise<void> => {
    const before = client.of('pong').length;
    client.send({ type: 'ping' });
    await client.waitFor(`${client.name} pong`, () => client.of('pong').length > before, 10_000);
    expect(client.closeCode).toBeUndefined();
  };

  it('refuses a client IP past its cap on an instance before the upgrade (429 CONNECTION_LIMIT), and frees the slot when a socket closes', async () => {
    const ip = newIp();
    const held = [];
    for (let i = 0; i < PER_IP; i++) held.push(await connect(a, await newUser(), ip));
    const refused = await handshake(a, await newUser(), ip);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'CONNECTION_LIMIT' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The other instance counts its own; another address is not affected.
    expect((await handshake(b, await newUser(), ip)).ws?.close()).toBeUndefined();
    for (const c of held) await stillServed(c);
    await held[0]!.close();
    await waitFor(
      'the freed slot to be taken',
      async () => {
        const again = await handshake(a, await newUser(), ip);
        again.ws?.close();
        return again.status === 101;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    for (const c of held.slice(1)) await c.close();
  });

  it('refuses a handshake when the instance holds its cap (503 UNAVAILABLE: connect to another)', async () => {
    const held = [];
    // The sockets of the test before are closed: their slots go back as their TCP sockets close.
    await waitFor('no socket left on the instance', () => a.connections.size() === 0 && a.socketSlots() === 0, { timeoutMs: 10_000 });
    for (;;) {
      const h = await handshake(a, await newUser(), newIp());
      if (h.status !== 101) {
        expect(h.status).toBe(503);
        expect(JSON.parse(h.body)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
        break;
      }
      held.push(h.ws!);
      expect(held.length).toBeLessThanOrEqual(PER_INSTANCE);
    }
    expect(held.length).toBe(PER_INSTANCE);
    for (const ws of held) ws.close();
    // A slot goes back when the server's TCP socket closes, a moment after the client's
    // close: the next test starts on a free instance (CI once met 503 right after).
    await waitFor('every slot of the instance free again', () => a.socketSlots() === 0, { timeoutMs: 10_000 });
  });

  it("closes a user's socket past the per-user cap, counted over both instances, with 4008 and the reason; the others stay", async () => {
    const user = await newUser();
    const first = await connect(a, user, newIp());
    const second = await connect(b, user, newIp());
    const over = new WebSocket(`${a.url().replace(/^http/, 'ws')}/ws`, {
      headers: { authorization: `Bearer ${tokens.issue(user).token}`, 'x-forwarded-for': newIp() },
    });
    const frames: string[] = [];
    over.on('message', (data) => frames.push(data.toString()));
    const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
      over.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      over.on('error', reject);
    });
    expect(closed.code).toBe(CloseCodes.POLICY);
    expect(closed.reason).toMatch(/^CONNECTION_LIMIT: at most 2 connections per user/);
    expect(frames.some((f) => f.includes('"ready"'))).toBe(false);
    await stillServed(first);
    await stillServed(second);
    // Once one closes, the user may open another.
    await second.close();
    await waitFor(
      'a socket in the freed place',
      async () => {
        try {
          const next = await connect(b, user, newIp());
          return next.closeCode === undefined;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  }, 60_000);
});
