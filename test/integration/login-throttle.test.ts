import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { App } from '../../src/app';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { startMemoryApp } from '../support/apps';
import { REDIS_URL, randomName, requireRedis } from '../support/infra';

/**
 * POST /api/auth/login throttling (issue 7, item 3): two in-process instances on one
 * in-memory broker and store, sharing the real Redis, so a limit reached through one
 * instance holds on the other. Each test acts from client IPs of its own (X-Forwarded-For
 * from loopback is trusted, as behind a local proxy) so no count leaks between tests or
 * into other test runs on the same Redis.
 */
describe('login throttling (two instances, real Redis)', () => {
  const broker = new MemoryBroker();
  const store = createMemoryChatStore();
  const password = 'correct horse battery';
  let a: App;
  let b: App;

  beforeAll(async () => {
    await requireRedis();
    const env = { REDIS_URL, LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_FAILURE_WINDOW_SECONDS: '900' };
    a = await startMemoryApp({ env, memoryBroker: broker, store });
    b = await startMemoryApp({ env, memoryBroker: broker, store });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const newIp = (): string => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::7`;
  const register = async (): Promise<string> => {
    const userId = randomName('u');
    await request(a.http).post('/api/auth/register').send({ userId, password }).expect(201);
    return userId;
  };
  const login = (app: App, userId: string, pw: string, ip: string) =>
    request(app.http).post('/api/auth/login').set('X-Forwarded-For', ip).send({ userId, password: pw });
  /** Records ever produced to the login topic: a throttled attempt must add none. */
  const loginRecords = (): number => {
    const topic = a.config.topics.login;
    let n = 0;
    for (let p = 0; p < broker.partitionCount(topic); p++) n += broker.endOffset(topic, p);
    return n;
  };

  it('refuses an account with 429 RATE_LIMITED and Retry-After after its failures, on every instance, before anything reaches the bus', async () => {
    const userId = await register();
    const ip = newIp();
    for (const app of [a, b, a])
      expect((await login(app, userId, 'wrong password', ip).expect(401)).body.error.code).toBe('INVALID_CREDENTIALS');
    const produced = loginRecords();
    for (const app of [b, a]) {
      const res = await login(app, userId, password, newIp()).expect(429);
      expect(res.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many failed login attempts; try again later' } });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(890);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(900);
    }
    expect(loginRecords()).toBe(produced);
    const metrics = await request(b.http).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/chat_security_refusals_total\{reason="login_throttled"\} [1-9]/);
  });

  it('a success resets the account count', async () => {
    const userId = await register();
    const ip = newIp();
    await login(a, userId, 'wrong password', ip).expect(401);
    await login(b, userId, 'wrong password', ip).expect(401);
    await login(a, userId, password, ip).expect(200);
    for (let i = 0; i < 3; i++) await login(b, userId, 'wrong password', newIp()).expect(401);
    await login(a, userId, password, newIp()).expect(429);
  });

  it('limits an IP over every account; other IPs are unaffected', async () => {
    const ip = newIp();
    for (let i = 0; i < 5; i++) await login(i % 2 === 0 ? a : b, randomName('nobody'), 'wrong password', ip).expect(401);
    const res = await login(a, await register(), password, ip).expect(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    await login(b, randomName('nobody'), 'wrong password', newIp()).expect(401);
  });

  it('answers an unknown account exactly like a known one (no enumeration through the limit)', async () => {
    const known = await register();
    const unknown = randomName('nobody');
    for (const userId of [known, unknown]) for (let i = 0; i < 3; i++) await login(a, userId, 'wrong password', newIp()).expect(401);
    const [k, u] = [await login(b, known, 'x', newIp()).expect(429), await login(b, unknown, 'x', newIp()).expect(429)];
    expect(k.body).toEqual(u.body);
  });

  it('does not count requests refused before the password is checked (400)', async () => {
    const userId = await register();
    const ip = newIp();
    for (let i = 0; i < 10; i++) await login(a, userId, 'p'.repeat(73), ip).expect(400);
    for (let i = 0; i < 10; i++)
      await request(a.http).post('/api/auth/login').set('X-Forwarded-For', ip).send({ userId, password: 'wrong', extra: 1 }).expect(400);
    await login(b, userId, password, ip).expect(200);
  });
});
