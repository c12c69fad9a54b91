import type { Express } from 'express';
import request from 'supertest';
import { createMemoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { createTokenService } from '../../src/auth/token-service';
import { createHttpApp } from '../../src/gateway/http/http-app';
import { createRoomRoutes } from '../../src/gateway/http/room-routes';
import { createMetrics } from '../../src/observability/metrics';
import { DATABASE_URL, randomName, requirePostgres, silentLogger } from '../support/infra';

/**
 * The v1.1 room routes (api.md) on the real PostgreSQL (`chat_test`) through the Prisma
 * store: POST /api/dms, PATCH /api/rooms/:roomId, DELETE /api/rooms/:roomId/members/:userId
 * and the paged GET /api/rooms, with their status codes and stable error codes. No Kafka
 * here (test/integration/rooms-membership.test.ts covers the frames across instances).
 */
describe('rooms v1.1 REST API (PostgreSQL)', () => {
  const store = createPrismaChatStore({ databaseUrl: DATABASE_URL });
  const tokens = createTokenService({
    secret: 'room-routes-test-secret-long-enough-for-hs256-0123456789',
    issuer: 'keyed-chat',
    audience: 'keyed-chat',
  });
  let http: Express;
  let nudges = 0;

  beforeAll(async () => {
    await requirePostgres();
    await store.start();
    http = createHttpApp({
      logger: silentLogger(),
      metrics: createMetrics({ defaultMetrics: false }),
      bodyLimitBytes: 64 * 1024,
      routers: [
        createRoomRoutes({
          store,
          tokens,
          revocations: createMemoryRevocationStore(),
          onOutboxWrite: () => nudges++,
          // POST …/read (the owner's) is not exercised here.
          requestReply: {
            request: () => Promise.reject(new Error('no owner in this test')),
            settle: () => false,
            close: () => undefined,
            pendingCount: () => 0,
          },
          chatTopic: 'unused',
        }),
      ],
    });
  });
  afterAll(async () => {
    await store.stop();
  });

  interface TestUser {
    readonly userId: string;
    readonly auth: string;
  }
  const newUser = async (): Promise<TestUser> => {
    const userId = randomName('u');
    await store.createUser({ userId, displayName: userId, passwordHash: 'unused' });
    return { userId, auth: `Bearer ${tokens.issue(userId).token}` };
  };
  const dm = (user: TestUser, body: unknown) =>
    request(http)
      .post('/api/dms')
      .set('Authorization', user.auth)
      .send(body as object);
  const createRoom = (user: TestUser, name: string, members: string[] = []) =>
    request(http).post('/api/rooms').set('Authorization', user.auth).send({ name, members }).expect(201);
  const rename = (user: TestUser, roomId: string, body: unknown) =>
    request(http)
      .patch(`/api/rooms/${encodeURIComponent(roomId)}`)
      .set('Authorization', user.auth)
      .send(body as object);
  const remove = (user: TestUser, roomId: string, userId: string) =>
    request(http)
      .delete(`/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`)
      .set('Authorization', user.auth);
  const list = (user: TestUser, query = '') => request(http).get(`/api/rooms${query}`).set('Authorization', user.auth);
  const codeOf = (res: request.Response): unknown => res.body.error?.code;

  it('refuses every new route without a token (401)', async () => {
    expect(codeOf(await request(http).post('/api/dms').send({ userId: 'someone' }).expect(401))).toBe('UNAUTHORIZED');
    expect(codeOf(await request(http).patch('/api/rooms/r1').send({ name: 'x' }).expect(401))).toBe('UNAUTHORIZED');
    expect(codeOf(await request(http).delete('/api/rooms/r1/members/someone').expect(401))).toBe('UNAUTHORIZED');
  });

  describe('POST /api/dms', () => {
    it('answers 201 with the new direct room, then 200 with the same room to either side', async () => {
      const [alice, bob] = [await newUser(), await newUser()];
      const before = nudges;
      const created = await dm(alice, { userId: bob.userId }).expect(201);
      const members = [alice.userId, bob.userId].sort();
      expect(created.body).toEqual({ roomId: expect.any(String), kind: 'dm', name: members.join(', '), members });
      expect(nudges).toBe(before + 1);
      expect((await dm(bob, { userId: alice.userId }).expect(200)).body).toEqual(created.body);
      expect((await dm(alice, { userId: bob.userId }).expect(200)).body).toEqual(created.body);
      expect(nudges).toBe(before + 1);
      expect((await list(bob).expect(200)).body.rooms).toEqual([
        { roomId: created.body.roomId, name: members.join(', '), members, lastSeq: 0, kind: 'dm', lastReadSeq: 0, unread: 0 },
      ]);
    });

    it('answers 400 DM_WITH_SELF, 404 USER_NOT_FOUND and 400 VALIDATION, creating nothing', async () => {
      const alice = await newUser();
      expect(codeOf(await dm(alice, { userId: alice.userId }).expect(400))).toBe('DM_WITH_SELF');
      expect(codeOf(await dm(alice, { userId: randomName('ghost') }).expect(404))).toBe('USER_NOT_FOUND');
      for (const body of [{}, { userId: 'no spaces' }, { userId: 7 }, { userId: 'bob-1', extra: 1 }, []])
        expect([codeOf(await dm(alice, body).expect(400)), body]).toEqual(['VALIDATION', body]);
      expect((await list(alice).expect(200)).body).toEqual({ rooms: [] });
    });

    it('refuses to rename a direct room, add to it or leave it (409 ROOM_IS_DM)', async () => {
      const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
      const { roomId } = (await dm(alice, { userId: bob.userId }).expect(201)).body;
      expect(codeOf(await rename(alice, roomId, { name: 'ours' }).expect(409))).toBe('ROOM_IS_DM');
      expect(codeOf(await remove(alice, roomId, alice.userId).expect(409))).toBe('ROOM_IS_DM');
      expect(codeOf(await remove(alice, roomId, bob.userId).expect(409))).toBe('ROOM_IS_DM');
      const add = await request(http).post(`/api/rooms/${roomId}/members`).set('Authorization', alice.auth).send({ userId: carol.userId });
      expect([add.status, codeOf(add)]).toEqual([409, 'ROOM_IS_DM']);
    });
  });

  describe('PATCH /api/rooms/:roomId', () => {
    it('renames for a member (200, the room); 403 for others, 404 unknown, 400 bad names', async () => {
      const [alice, bob, outsider] = [await newUser(), await newUser(), await newUser()];
      const { roomId } = (await createRoom(alice, 'Old', [bob.userId])).body;
      const res = await rename(bob, roomId, { name: '  New  ' }).expect(200);
      expect(res.body).toEqual({ roomId, name: 'New', members: [alice.userId, bob.userId].sort(), lastSeq: 0, kind: 'group' });
      expect(codeOf(await rename(outsider, roomId, { name: 'Mine' }).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await rename(alice, randomName('nothing'), { name: 'x' }).expect(404))).toBe('ROOM_NOT_FOUND');
      for (const body of [{}, { name: '' }, { name: ' ' }, { name: 'x'.repeat(101) }, { name: 'ok', extra: 1 }])
        expect([codeOf(await rename(alice, roomId, body).expect(400)), body]).toEqual(['VALIDATION', body]);
      expect((await list(alice).expect(200)).body.rooms[0].name).toBe('New');
    });
  });

  describe('DELETE /api/rooms/:roomId/members/:userId', () => {
    it('lets a member leave and the creator remove others (204); the user then gets 403 on history', async () => {
      const [creator, bob, carol] = [await newUser(), await newUser(), await newUser()];
      const { roomId } = (await createRoom(creator, 'Team', [bob.userId, carol.userId])).body;
      await remove(bob, roomId, bob.userId).expect(204);
      await remove(creator, roomId, carol.userId).expect(204);
      expect(await store.roomMembers(roomId)).toEqual([creator.userId]);
      for (const user of [bob, carol]) {
        expect(codeOf(await request(http).get(`/api/rooms/${roomId}/messages`).set('Authorization', user.auth).expect(403))).toBe(
          'NOT_A_MEMBER',
        );
        expect((await list(user).expect(200)).body.rooms).toEqual([]);
      }
    });

    it('answers 403 NOT_ROOM_CREATOR / NOT_A_MEMBER, 404 ROOM_NOT_FOUND / MEMBER_NOT_FOUND, 400 bad ids', async () => {
      const [creator, bob, carol, outsider] = [await newUser(), await newUser(), await newUser(), await newUser()];
      const { roomId } = (await createRoom(creator, 'Team', [bob.userId, carol.userId])).body;
      expect(codeOf(await remove(bob, roomId, carol.userId).expect(403))).toBe('NOT_ROOM_CREATOR');
      expect(codeOf(await remove(outsider, roomId, bob.userId).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await remove(outsider, roomId, outsider.userId).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await remove(creator, randomName('nothing'), bob.userId).expect(404))).toBe('ROOM_NOT_FOUND');
      expect(codeOf(await remove(creator, roomId, outsider.userId).expect(404))).toBe('MEMBER_NOT_FOUND');
      expect(codeOf(await remove(creator, roomId, 'no').expect(400))).toBe('VALIDATION');
      expect(await store.roomMembers(roomId)).toEqual([creator.userId, bob.userId, carol.userId].sort());
    });
  });

  describe('GET /api/rooms?cursor=&limit=', () => {
    it('pages every room once with an opaque cursor, nextCursor only when more; default 50, max 100', async () => {
      const [alice, bob] = [await newUser(), await newUser()];
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push((await createRoom(alice, `r${i}`)).body.roomId);
      made.push((await dm(bob, { userId: alice.userId }).expect(201)).body.roomId);
      const all = (await list(alice).expect(200)).body;
      expect(all.nextCursor).toBeUndefined();
      expect(all.rooms.map((r: { roomId: string }) => r.roomId).sort()).toEqual([...made].sort());
      const walked: string[] = [];
      let cursor: string | undefined;
      do {
        const page = (await list(alice, `?limit=3${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`).expect(200)).body;
        walked.push(...page.rooms.map((r: { roomId: string }) => r.roomId));
        cursor = page.nextCursor;
        if (cursor !== undefined) expect(cursor).not.toContain(page.rooms[page.rooms.length - 1].roomId);
      } while (cursor !== undefined);
      expect(walked).toEqual(all.rooms.map((r: { roomId: string }) => r.roomId));
      const exact = (await list(alice, '?limit=8').expect(200)).body;
      expect([exact.rooms.length, exact.nextCursor]).toEqual([8, undefined]);
      await list(alice, '?limit=100').expect(200);
    });

    it('answers 400 VALIDATION for a bad limit or a cursor it did not make', async () => {
      const alice = await newUser();
      const foreign = Buffer.from(JSON.stringify({ v: 1, after: randomName('nothing') })).toString('base64url');
      for (const query of ['?limit=0', '?limit=101', '?limit=x', '?cursor=', '?cursor=%%%', '?cursor=bm9wZQ', `?cursor=${foreign}`])
        expect([query, codeOf(await list(alice, query).expect(400))]).toEqual([query, 'VALIDATION']);
    });
  });
});
