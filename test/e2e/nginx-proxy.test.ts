import { randomUUID } from 'node:crypto';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { realEnv } from '../support/apps';
import { logContext, startReadyInstances, type InstanceProcess } from '../support/processes';
import { startNginx, type RunningNginx } from '../support/nginx';
import { handshakeFrom, httpFrom, randomLoopbackAddress } from '../support/loopback-client';
import { TestClient } from '../support/ws-client';

/**
 * Debian's nginx running deploy/nginx.conf in front of three instances (separate processes
 * on the real 3-broker cluster), with real `ws` clients. Every client connects from an
 * address of its own in 127.0.0.0/8; nginx connects to the instances from 127.0.0.1, the
 * only address TRUST_PROXY names. So the instances must count each client by the address
 * nginx saw, never by nginx's, and never by what a client wrote in X-Forwarded-For itself.
 */
describe('behind nginx', () => {
  const topics = randomTopics(6);
  const LOGIN_FAILURES_PER_IP = 3;
  const HANDSHAKES_PER_MIN = 2;
  const env = realEnv(topics, {
    TRUST_PROXY: '127.0.0.1',
    LOGIN_MAX_FAILURES_PER_IP: String(LOGIN_FAILURES_PER_IP),
    WS_HANDSHAKES_PER_MIN: String(HANDSHAKES_PER_MIN),
  });
  const instances: InstanceProcess[] = [];
  const clients: TestClient[] = [];
  let nginx: RunningNginx | undefined;
  const password = 'correct horse battery';
  const proxy = (): RunningNginx => nginx!;
  const context = (needles: readonly string[] = []): string =>
    `${logContext(instances, needles)}\n--- nginx error log\n${nginx?.errorLog() ?? ''}`;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await startReadyInstances(['proxied-1', 'proxied-2', 'proxied-3'], env, instances);
    nginx = await startNginx({ upstreamPorts: instances.map((i) => i.port) });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await nginx?.stop();
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  /** Registers and logs in a user through nginx from `address`; returns the token. */
  const account = async (address: string, userId: string): Promise<string> => {
    const reg = await httpFrom(address, `${proxy().url}/api/auth/register`, { method: 'POST', body: { userId, password } });
    expect(reg.status).toBe(201);
    const login = await httpFrom(address, `${proxy().url}/api/auth/login`, { method: 'POST', body: { userId, password } });
    if (login.status !== 200) throw new Error(`login of ${userId}: ${login.status} ${JSON.stringify(login.body)}\n${context([userId])}`);
    return (login.body as { token: string }).token;
  };

  it('spreads requests over the three instances and keeps the forwarded headers and request ids', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await httpFrom('127.0.0.1', `${proxy().url}/healthz`);
      expect(res.status).toBe(200);
      seen.add((res.body as { instanceId: string }).instanceId);
      // The instance takes nginx's $request_id (32 hex digits) as its own: one id in both logs.
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    }
    expect([...seen].sort()).toEqual(instances.map((i) => i.name).sort());
    // The metrics are for Prometheus, which scrapes the instances directly.
    expect((await httpFrom('127.0.0.1', `${proxy().url}/metrics`)).status).toBe(404);
  });

  it('logs in and chats through nginx: WebSocket upgrade, ack, delivery to the other member', async () => {
    const [aliceAt, bobAt] = [randomLoopbackAddress(), randomLoopbackAddress()];
    const alice = randomName('alice');
    const bob = randomName('bob');
    const aliceToken = await account(aliceAt, alice);
    const bobToken = await account(bobAt, bob);
    const room = await httpFrom(aliceAt, `${proxy().url}/api/rooms`, {
      method: 'POST',
      body: { name: 'through nginx', members: [bob] },
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(room.status).toBe(201);
    const roomId = (room.body as { roomId: string }).roomId;

    const a = await TestClient.connect(proxy().url, aliceToken, alice, { localAddress: aliceAt });
    const b = await TestClient.connect(proxy().url, bobToken, bob, { localAddress: bobAt });
    clients.push(a, b);
    for (let n = 0; n < 3; n++) a.send({ type: 'send', roomId, clientMsgId: `via-nginx-${n}`, text: `hello ${n} through nginx` });
    await waitFor('3 acks', () => a.of('ack').length >= 3, { timeoutMs: 30_000, intervalMs: 50 }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${context([alice])}`);
    });
    const acked = a.of('ack').map((f) => f.message);
    await waitFor('bob got all 3', () => b.of('message').length >= 3, { timeoutMs: 30_000, intervalMs: 50 }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${context([bob])}`);
    });
    expect(b.of('message').map((f) => f.message.id)).toEqual(acked.map((m) => m.id));
    expect(b.of('message').map((f) => f.message.seq)).toEqual([1, 2, 3]);
    // The socket stays usable both ways through the proxy.
    b.send({ type: 'ping' });
    await b.waitFor('pong through nginx', (f) => f.type === 'pong', 10_000);
    expect(a.of('error')).toEqual([]);
  });

  it('counts failed logins per client address behind nginx; an X-Forwarded-For the client wrote changes nothing', async () => {
    const [first, second] = [randomLoopbackAddress(), randomLoopbackAddress()];
    const fail = (address: string, headers: Record<string, string> = {}) =>
      httpFrom(address, `${proxy().url}/api/auth/login`, {
        method: 'POST',
        body: { userId: randomName('nobody'), password: 'wrong password' },
        headers,
      });
    // Each attempt claims to come from a different address: were the header believed, no
    // counter would ever fill.
    for (let n = 0; n < LOGIN_FAILURES_PER_IP; n++) {
      expect((await fail(first, { 'x-forwarded-for': `198.51.100.${n + 1}` })).status).toBe(401);
    }
    const refused = await fail(first, { 'x-forwarded-for': '198.51.100.99' });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    // Another client behind the same proxy has its own budget.
    expect((await fail(second)).status).toBe(401);
    // And the instance saw the client's address: not nginx's, not the one it claimed.
    const throttled = await waitFor('the throttled login logged', () =>
      instances
        .flatMap((i) => i.logs)
        .find((l) => l.msg === 'login throttled' && typeof l['ip'] === 'string' && [first, '127.0.0.1', '198.51.100.99'].includes(l['ip'])),
    );
    expect(throttled['ip']).toBe(first);
  });

  it('ignores X-Forwarded-For from a peer TRUST_PROXY does not name, straight to an instance', async () => {
    const direct = randomLoopbackAddress();
    const claimed = randomLoopbackAddress();
    const instance = instances[0]!;
    const fail = (address: string, headers: Record<string, string> = {}) =>
      httpFrom(address, `${instance.url}/api/auth/login`, {
        method: 'POST',
        body: { userId: randomName('nobody'), password: 'wrong password' },
        headers,
      });
    for (let n = 0; n < LOGIN_FAILURES_PER_IP; n++) expect((await fail(direct, { 'x-forwarded-for': claimed })).status).toBe(401);
    expect((await fail(direct, { 'x-forwarded-for': claimed })).status).toBe(429);
    // The address it named was never charged: through nginx, that client still gets in line.
    expect(
      (
        await httpFrom(claimed, `${proxy().url}/api/auth/login`, {
          method: 'POST',
          body: { userId: randomName('nobody'), password: 'wrong password' },
        })
      ).status,
    ).toBe(401);
    const ips = instances
      .flatMap((i) => i.logs)
      .filter((l) => l.msg === 'login throttled')
      .map((l) => l['ip']);
    expect(ips).toContain(direct);
    expect(ips).not.toContain(claimed);
  });

  it('limits WebSocket handshakes per client address behind nginx, not per proxy', async () => {
    const token = await account(randomLoopbackAddress(), randomName('ws-limit'));
    const wsUrl = `${proxy().url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`;
    const noisy = randomLoopbackAddress();
    // The limit is per instance, and nginx spreads the handshakes over three: the noisy
    // client is refused at the latest once every instance's bucket for it is empty.
    const statuses: number[] = [];
    for (let n = 0; n < HANDSHAKES_PER_MIN * instances.length + 1 && !statuses.includes(429); n++) {
      statuses.push(await handshakeFrom(noisy, wsUrl, { 'x-forwarded-for': `203.0.113.${n + 1}`, 'x-request-id': randomUUID() }));
    }
    expect(statuses[statuses.length - 1]).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 101)).toBe(true);
    expect(statuses.length).toBeGreaterThan(HANDSHAKES_PER_MIN);
    // A quiet client behind the same proxy is not affected.
    const quiet = randomLoopbackAddress();
    for (let n = 0; n < HANDSHAKES_PER_MIN; n++) expect(await handshakeFrom(quiet, wsUrl)).toBe(101);
  });
});
