import { Client } from 'pg';
import request from 'supertest';
import type { App } from '../../src/app';
import { hashRefreshToken } from '../../src/auth/refresh-tokens';
import { startRealApp } from '../support/apps';
import {
  DATABASE_URL,
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  waitFor,
} from '../support/infra';

/**
 * Refresh tokens (api.md v1.1) on real Kafka (the login path), PostgreSQL (the families)
 * and Redis, with two instances: a token issued through one is rotated, reused and
 * revoked through either.
 */
describe('refresh tokens (real infrastructure, two instances)', () => {
  const topics = randomTopics(6);
  const apps: App[] = [];
  let a: App;
  let b: App;
  const password = 'correct horse battery';

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    a = await startRealApp(topics);
    apps.push(a);
    b = await startRealApp(topics);
    apps.push(b);
    await waitFor(
      'both instances own partitions',
      () => a.bus.ownerStatus().partitions.length + b.bus.ownerStatus().partitions.length === 6,
      {
        timeoutMs: 45_000,
      },
    );
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  /** A new user, logged in through `app`: the login's body. */
  const loggedIn = async (app: App = a) => {
    const userId = randomName('rt');
    await request(app.http).post('/api/auth/register').send({ userId, password }).expect(201);
    const res = await request(app.http).post('/api/auth/login').send({ userId, password }).expect(200);
    return { userId, token: res.body.token as string, refreshToken: res.body.refreshToken as string };
  };
  const refresh = (app: App, refreshToken: unknown) => request(app.http).post('/api/auth/refresh').send({ refreshToken });
  const expectRefused = (res: request.Response) => {
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'INVALID_REFRESH_TOKEN' } });
  };

  it('login returns an opaque refresh token, stored only as its hash', async () => {
    const { userId } = await loggedIn();
    const res = await request(a.http).post('/api/auth/login').send({ userId, password }).expect(200);
    expect(res.body).toMatchObject({ token: expect.any(String), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(res.body.refreshExpiresIn).toBe(a.config.auth.refreshTokenTtlSeconds);
    const db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const rows = await db.query(
        'SELECT t.token_hash FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id WHERE f.user_id = $1',
        [userId],
      );
      expect(rows.rows.map((r: { token_hash: string }) => r.token_hash)).toContain(hashRefreshToken(res.body.refreshToken));
      expect(rows.rows.map((r: { token_hash: string }) => r.token_hash)).not.toContain(res.body.refreshToken);
    } finally {
      await db.end();
    }
  });

  it('rotates: each refresh gives a working access token and a new refresh token, on either instance', async () => {
    const { userId, refreshToken } = await loggedIn();
    const first = await refresh(b, refreshToken).expect(200);
    expect(first.body).toEqual({
      token: expect.any(String),
      expiresIn: a.config.auth.tokenTtlSeconds,
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      refreshExpiresIn: a.config.auth.refreshTokenTtlSeconds,
    });
    expect(first.body.refreshToken).not.toBe(refreshToken);
    await request(a.http).get('/api/me').set('Authorization', `Bearer ${first.body.token}`).expect(200, { userId, displayName: userId });
    const second = await refresh(a, first.body.refreshToken).expect(200);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
  });

  it('reuse of a rotated token answers 401 and revokes the whole family', async () => {
    const { refreshToken } = await loggedIn();
    const rotated = await refresh(a, refreshToken).expect(200);
    expectRefused(await refresh(b, refreshToken));
    // The successor went with the family: whoever held it must log in again.
    expectRefused(await refresh(a, rotated.body.refreshToken));
  });

  it('logout revokes the refresh token’s family (and the access token, as before)', async () => {
    const { token, refreshToken } = await loggedIn();
    const rotated = await refresh(a, refreshToken).expect(200);
    await request(b.http)
      .post('/api/auth/logout')
      .set('Authorization', `Bearer ${token}`)
      .send({ refreshToken: rotated.body.refreshToken })
      .expect(204);
    expectRefused(await refresh(a, rotated.body.refreshToken));
    await request(a.http).get('/api/me').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('logout with another user’s refresh token leaves that family alone', async () => {
    const alice = await loggedIn();
    const bob = await loggedIn();
    await request(a.http)
      .post('/api/auth/logout')
      .set('Authorization', `Bearer ${alice.token}`)
      .send({ refreshToken: bob.refreshToken })
      .expect(204);
    await refresh(a, bob.refreshToken).expect(200);
  });

  it('refuses an expired token', async () => {
    const { refreshToken } = await loggedIn();
    const db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const updated = await db.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [
        hashRefreshToken(refreshToken),
      ]);
      expect(updated.rowCount).toBe(1);
    } finally {
      await db.end();
    }
    expectRefused(await refresh(a, refreshToken));
  });

  it('refuses garbage with 401 and a body of the wrong shape with 400', async () => {
    for (const garbage of ['', 'x', 'A'.repeat(43), 'not a token at all', 'A'.repeat(1024)]) expectRefused(await refresh(a, garbage));
    for (const body of [{}, { refreshToken: 42 }, { refreshToken: 'x', extra: 1 }, { refreshToken: 'A'.repeat(1025) }]) {
      const res = await request(a.http).post('/api/auth/refresh').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
  });

  it('of two refreshes with the same token at once, on two instances, exactly one gets 200', async () => {
    for (let round = 0; round < 4; round++) {
      const { refreshToken } = await loggedIn();
      const answers = await Promise.all([refresh(a, refreshToken), refresh(b, refreshToken)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
      const loser = answers.find((r) => r.status === 401)!;
      expect(loser.body.error.code).toBe('INVALID_REFRESH_TOKEN');
      // The loser was handled as reuse: the family is revoked, the winner's token too.
      const winner = answers.find((r) => r.status === 200)!;
      expectRefused(await refresh(a, winner.body.refreshToken));
    }
  });
});
