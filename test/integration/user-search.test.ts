import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { App } from '../../src/app';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { startMemoryApp } from '../support/apps';
import { DATABASE_URL, REDIS_URL, requirePostgres, requireRedis } from '../support/infra';

/**
 * GET /api/users (api.md v1.1) on the real PostgreSQL (the search) and Redis (the per-user
 * limit, shared by two instances).
 */
const PER_USER = 5;

describe('user search (real PostgreSQL and Redis, two instances)', () => {
  const broker = new MemoryBroker();
  let a: App;
  let b: App;
  const password = 'correct horse battery';

  beforeAll(async () => {
    await Promise.all([requirePostgres(), requireRedis()]);
    const env = { DATABASE_URL, REDIS_URL, USER_SEARCH_MAX_PER_WINDOW: String(PER_USER), USER_SEARCH_WINDOW_SECONDS: '3600' };
    a = await startMemoryApp({ env, memoryBroker: broker });
    b = await startMemoryApp({ env, memoryBroker: broker });
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const register = (userId: string, displayName = userId) =>
    request(a.http).post('/api/auth/register').send({ userId, password, displayName }).expect(201);
  /** A new searcher's token (each has its own rate window). */
  const searcher = async (): Promise<string> => {
    const userId = `q${randomBytes(6).toString('hex')}`;
    await register(userId);
    return (await request(a.http).post('/api/auth/login').send({ userId, password }).expect(200)).body.token as string;
  };
  const search = (app: App, token: string, query: string) =>
    request(app.http).get(`/api/users?${query}`).set('Authorization', `Bearer ${token}`);

  it('finds users by a prefix of userId or displayName, ignoring case, in userId order, up to the limit', async () => {
    const p = `s${randomBytes(5).toString('hex')}`;
    await register(`${p}-carol`);
    await register(`${p}-alice`, 'Alice');
    await register(`z${p}`, `${p.toUpperCase()} Zed`);
    const token = await searcher();
    const res = await search(a, token, `q=${p.toUpperCase()}`).expect(200);
    expect(res.body).toEqual({
      users: [
        { userId: `${p}-alice`, displayName: 'Alice' },
        { userId: `${p}-carol`, displayName: `${p}-carol` },
        { userId: `z${p}`, displayName: `${p.toUpperCase()} Zed` },
      ],
    });
    expect((await search(b, token, `q=${p}&limit=1`).expect(200)).body.users).toEqual([{ userId: `${p}-alice`, displayName: 'Alice' }]);
    // LIKE wildcards are plain characters.
    expect((await search(a, token, `q=${encodeURIComponent(`${p.slice(0, 4)}%`)}`).expect(200)).body.users).toEqual([]);
  });

  it('refuses an empty, missing or over-long q and a limit outside 1..50 with 400 VALIDATION, without counting them', async () => {
    const token = await searcher();
    for (const query of ['q=', '', `q=${'a'.repeat(65)}`, 'q=a&limit=0', 'q=a&limit=51', 'q=a&limit=x', 'q=a&q=b']) {
      const res = await search(a, token, query);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'VALIDATION']);
    }
    await search(a, token, `q=${'a'.repeat(64)}&limit=50`).expect(200);
    await search(a, token, 'q=a').expect(200);
  });

  it('needs a bearer token', async () => {
    await request(a.http).get('/api/users?q=a').expect(401);
  });

  it('limits searches per user across instances: 429 RATE_LIMITED with Retry-After, other users unaffected', async () => {
    const token = await searcher();
    for (let i = 0; i < PER_USER; i++) await search(i % 2 === 0 ? a : b, token, 'q=abc').expect(200);
    const refused = await search(b, token, 'q=abc');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
    await search(a, await searcher(), 'q=abc').expect(200);
  });
});
