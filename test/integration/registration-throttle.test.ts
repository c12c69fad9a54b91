import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { App } from '../../src/app';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { startMemoryApp } from '../support/apps';
import { REDIS_URL, randomName, requireRedis } from '../support/infra';

/**
 * POST /api/auth/register throttling (issue #17, item 2): two instances sharing the real
 * Redis, so registrations through either count against one limit per client IP. Each test
 * acts from client IPs of its own (X-Forwarded-For from loopback is trusted).
 */
const PER_IP = 3;

describe('registration throttling (two instances, real Redis)', () => {
  const broker = new MemoryBroker();
  const store = createMemoryChatStore();
  let a: App;
  let b: App;

  beforeAll(async () => {
    await requireRedis();
    const env = { REDIS_URL, REGISTER_MAX_PER_IP: String(PER_IP), REGISTER_WINDOW_SECONDS: '3600' };
    a = await startMemoryApp({ env, memoryBroker: broker, store });
    b = await startMemoryApp({ env, memoryBroker: broker, store });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const newIp = (): string => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::9`;
  const register = (app: App, ip: string, userId = randomName('u')) =>
    request(app.http).post('/api/auth/register').set('X-Forwarded-For', ip).send({ userId, password: 'correct horse battery' });

  it('lets PER_IP registrations from one address through on any instance, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const ip = newIp();
    expect((await register(a, ip)).status).toBe(201);
    expect((await register(b, ip)).status).toBe(201);
    expect((await register(a, ip)).status).toBe(201);
    const refused = await register(b, ip);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
    // Nothing was made by the refused attempt, and another address is not affected.
    const userId = randomName('u');
    expect((await register(a, ip, userId)).status).toBe(429);
    expect(await store.findUser(userId)).toBeUndefined();
    expect((await register(a, newIp(), userId)).status).toBe(201);
  });

  it('counts a refused registration (a taken user id) like any other: the limit is on attempts', async () => {
    const ip = newIp();
    const userId = randomName('u');
    expect((await register(a, ip, userId)).status).toBe(201);
    expect((await register(a, ip, userId)).status).toBe(409);
    expect((await register(b, ip)).status).toBe(201);
    expect((await register(b, ip)).status).toBe(429);
  });
});
