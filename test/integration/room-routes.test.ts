import type { Express } from 'express';
import request from 'supertest';
import { createMemoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store';
import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { createTokenService } from '../../src/auth/token-service';
import { createHttpApp } from '../../src/gateway/http/http-app';
import { createRoomRoutes } from '../../src/gateway/http/room-routes';
import type { RequestReply } from '../../src/gateway/request-reply';
import { createMetrics } from '../../src/observability/metrics';
import { MessageSchema } from '../../src/protocol/message';
import type { ChatStore } from '../../src/ports/chat-store';
import type { RevocationStore } from '../../src/ports/revocation-store';
import { DATABASE_URL, randomName, requirePostgres, silentLogger } from '../support/infra';
import { appendOne } from '../support/append-one';

/**
 * The rooms REST API (api.md) on the real PostgreSQL (`chat_test`) through the Prisma
 * store. Users are made in the store and tokens with the token service: no Kafka here.
 */
describe('rooms REST API (PostgreSQL)', () => {
  const store = createPrismaChatStore({ databaseUrl: DATABASE_URL });
  const tokens = createTokenService({
    secret: 'room-routes-test-secret-long-enough-for-hs256-0123456789',
    issuer: 'keyed-chat',
    audience: 'keyed-chat',
  });
  const revocations: RevocationStore = createMemoryRevocationStore();
  let http: Express;
  const noOwner: RequestReply = {
    request: () => Promise.reject(new Error('no owner in this test')),
    settle: () => false,
    close: () => undefined,
    pendingCount: () => 0,
  };

  beforeAll(async () => {
    await requirePostgres();
    await store.start();
    http = createHttpApp({
      logger: silentLogger(),
      metrics: createMetrics({ defaultMetrics: false }),
      bodyLimitBytes: 64 * 1024,
      // POST /api/rooms/:roomId/read asks the reader's owner: tested with one in test/integration/read-cursors.test.ts.
      routers: [createRoomRoutes({ store, tokens, revocations, requestReply: noOwner, chatTopic: 'unused' })],
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
  const createRoom = (user: TestUser, body: unknown) =>
    request(http)
      .post('/api/rooms')
      .set('Authorization', user.auth)
      .send(body as object);
  const listRooms = (user: TestUser) => request(http).get('/api/rooms').set('Authorization', user.auth);
  const addMember = (user: TestUser, roomId: string, body: unknown) =>
    request(http)
      .post(`/api/rooms/${encodeURIComponent(roomId)}/members`)
      .set('Authorization', user.auth)
      .send(body as object);
  const messages = (user: TestUser, roomId: string, query = '') =>
    request(http)
      .get(`/api/rooms/${encodeURIComponent(roomId)}/messages${query}`)
      .set('Authorization', user.auth);
  const codeOf = (res: request.Response): unknown => res.body.error?.code;
  const appendN = async (s: ChatStore, roomId: string, senderId: string, n: number) => {
    for (let i = 0; i < n; i++)
      await appendOne(s, { id: randomName('m'), roomId, senderId, clientMsgId: randomName('c'), text: `message ${i}` });
  };

  describe('authentication', () => {
    it('refuses every route without a valid, unrevoked token (401)', async () => {
      const routes = [
        () => request(http).post('/api/rooms').send({ name: 'x' }),
        () => request(http).get('/api/rooms'),
        () => request(http).post('/api/rooms/r1/members').send({ userId: 'someone' }),
        () => request(http).get('/api/rooms/r1/messages'),
      ];
      for (const route of routes) {
        expect(codeOf(await route().expect(401))).toBe('UNAUTHORIZED');
        expect(codeOf(await route().set('Authorization', 'Bearer not.a.jwt').expect(401))).toBe('UNAUTHORIZED');
      }
      const user = await newUser();
      const issued = tokens.issue(user.userId);
      await revocations.revoke(issued.claims.jti, issued.claims.exp);
      expect(codeOf(await request(http).get('/api/rooms').set('Authorization', `Bearer ${issued.token}`).expect(401))).toBe(
        'TOKEN_REVOKED',
      );
    });
  });

  describe('POST /api/rooms', () => {
    it('creates a room with the caller as a member (201), name trimmed, members sorted', async () => {
      const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
      const res = await createRoom(alice, { name: '  General  ', members: [carol.userId, bob.userId, alice.userId] }).expect(201);
      expect(res.body).toEqual({ roomId: expect.any(String), name: 'General', members: [alice.userId, bob.userId, carol.userId].sort() });
      expect(await store.roomMembers(res.body.roomId)).toEqual(res.body.members);
      const solo = await createRoom(bob, { name: 'Solo' }).expect(201);
      expect(solo.body.members).toEqual([bob.userId]);
      expect(solo.body.roomId).not.toBe(res.body.roomId);
    });

    it('answers 404 USER_NOT_FOUND for an unknown member and creates nothing', async () => {
      const alice = await newUser();
      const ghost = randomName('ghost');
      const res = await createRoom(alice, { name: 'Nope', members: [ghost] }).expect(404);
      expect(codeOf(res)).toBe('USER_NOT_FOUND');
      expect(res.body.error.message).toContain(ghost);
      expect((await listRooms(alice).expect(200)).body).toEqual({ rooms: [] });
    });

    it('answers 400 for bad bodies', async () => {
      const alice = await newUser();
      const bad: unknown[] = [
        {},
        { name: '' },
        { name: '   ' },
        { name: 'x'.repeat(101) },
        { name: 7 },
        { name: 'ok', members: 'bob' },
        { name: 'ok', members: ['no spaces allowed'] },
        { name: 'ok', members: ['bob-1', 'bob-1'] },
        { name: 'ok', members: Array.from({ length: 101 }, (_, i) => `user-${i}`) },
        { name: 'ok', extra: true },
        [],
      ];
      for (const body of bad) {
        const res = await createRoom(alice, body);
        expect([res.status, codeOf(res), body]).toEqual([400, 'VALIDATION', body]);
      }
      expect(codeOf(await createRoom(alice, { name: 'x'.repeat(100) }).expect(201))).toBeUndefined();
      const invalidJson = await request(http)
        .post('/api/rooms')
        .set('Authorization', alice.auth)
        .set('Content-Type', 'application/json')
        .send('{nope')
        .expect(400);
      expect(codeOf(invalidJson)).toBe('INVALID_JSON');
    });
  });

  describe('GET /api/rooms', () => {
    it('lists the caller’s rooms, oldest first, with members and lastSeq', async () => {
      const [alice, bob, outsider] = [await newUser(), await newUser(), await newUser()];
      const first = (await createRoom(alice, { name: 'First' }).expect(201)).body;
      const second = (await createRoom(bob, { name: 'Second', members: [alice.userId] }).expect(201)).body;
      await createRoom(outsider, { name: 'Elsewhere' }).expect(201);
      await appendN(store, second.roomId, bob.userId, 3);
      const res = await listRooms(alice).expect(200);
      expect(res.body).toEqual({
        rooms: [
          { roomId: first.roomId, name: 'First', members: [alice.userId], lastSeq: 0, kind: 'group', lastReadSeq: 0, unread: 0 },
          {
            roomId: second.roomId,
            name: 'Second',
            members: [alice.userId, bob.userId].sort(),
            lastSeq: 3,
            kind: 'group',
            lastReadSeq: 0,
            unread: 3,
          },
        ],
      });
    });
  });

  describe('GET /api/rooms read state', () => {
    it('shows each room’s lastReadSeq and unread from the caller’s own cursor', async () => {
      const [alice, bob] = [await newUser(), await newUser()];
      const room = (await createRoom(alice, { name: 'Reads', members: [bob.userId] }).expect(201)).body;
      await appendN(store, room.roomId, alice.userId, 5);
      await store.markRead(bob.userId, room.roomId, 3);
      const bobs = (await listRooms(bob).expect(200)).body.rooms;
      expect(bobs).toEqual([expect.objectContaining({ roomId: room.roomId, lastSeq: 5, lastReadSeq: 3, unread: 2 })]);
      // Alice's cursor is her own: none yet.
      const alices = (await listRooms(alice).expect(200)).body.rooms;
      expect(alices).toEqual([expect.objectContaining({ roomId: room.roomId, lastSeq: 5, lastReadSeq: 0, unread: 5 })]);
      await store.markRead(bob.userId, room.roomId, 5);
      expect((await listRooms(bob).expect(200)).body.rooms[0]).toMatchObject({ lastReadSeq: 5, unread: 0 });
    });
  });

  describe('POST /api/rooms/:roomId/members', () => {
    it('adds a member (204), idempotently, and the new member sees the room and its history', async () => {
      const [alice, bob] = [await newUser(), await newUser()];
      const room = (await createRoom(alice, { name: 'Team' }).expect(201)).body;
      await appendN(store, room.roomId, alice.userId, 2);
      await addMember(alice, room.roomId, { userId: bob.userId }).expect(204);
      await addMember(alice, room.roomId, { userId: bob.userId }).expect(204);
      expect((await listRooms(bob).expect(200)).body.rooms).toEqual([
        {
          roomId: room.roomId,
          name: 'Team',
          members: [alice.userId, bob.userId].sort(),
          lastSeq: 2,
          kind: 'group',
          lastReadSeq: 0,
          unread: 2,
        },
      ]);
      expect((await messages(bob, room.roomId).expect(200)).body.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2]);
    });

    it('answers 403 NOT_A_MEMBER, 404 ROOM_NOT_FOUND, 404 USER_NOT_FOUND and 400, changing nothing', async () => {
      const [alice, bob, outsider] = [await newUser(), await newUser(), await newUser()];
      const room = (await createRoom(alice, { name: 'Closed' }).expect(201)).body;
      expect(codeOf(await addMember(outsider, room.roomId, { userId: outsider.userId }).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await addMember(outsider, room.roomId, { userId: bob.userId }).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await addMember(alice, randomName('nothing'), { userId: bob.userId }).expect(404))).toBe('ROOM_NOT_FOUND');
      expect(codeOf(await addMember(alice, room.roomId, { userId: randomName('ghost') }).expect(404))).toBe('USER_NOT_FOUND');
      for (const body of [{}, { userId: 'no spaces allowed' }, { userId: bob.userId, extra: 1 }]) {
        expect(codeOf(await addMember(alice, room.roomId, body).expect(400))).toBe('VALIDATION');
      }
      expect(codeOf(await addMember(alice, 'r'.repeat(101), { userId: bob.userId }).expect(400))).toBe('VALIDATION');
      expect(await store.roomMembers(room.roomId)).toEqual([alice.userId]);
    });
  });

  describe('GET /api/rooms/:roomId/messages', () => {
    it('pages messages in seq order: default limit 50, afterSeq, beforeSeq (newest before it), limit up to 200', async () => {
      const [alice, bob] = [await newUser(), await newUser()];
      const room = (await createRoom(alice, { name: 'Busy', members: [bob.userId] }).expect(201)).body;
      await appendN(store, room.roomId, alice.userId, 55);
      const seqs = async (query: string) =>
        (await messages(bob, room.roomId, query).expect(200)).body.messages.map((m: { seq: number }) => m.seq);
      const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

      const all = await messages(bob, room.roomId).expect(200);
      expect(all.body.messages).toHaveLength(50);
      for (const m of all.body.messages) expect(MessageSchema.strict().parse(m)).toEqual(m);
      expect(all.body.messages[0]).toMatchObject({ roomId: room.roomId, seq: 1, senderId: alice.userId, text: 'message 0' });
      expect(all.body.messages.map((m: { seq: number }) => m.seq)).toEqual(range(1, 50));
      expect(await seqs('?afterSeq=50')).toEqual(range(51, 55));
      expect(await seqs('?afterSeq=10&limit=3')).toEqual([11, 12, 13]);
      expect(await seqs('?beforeSeq=10&limit=3')).toEqual([7, 8, 9]);
      expect(await seqs('?afterSeq=2&beforeSeq=6&limit=200')).toEqual([3, 4, 5]);
      expect(await seqs('?limit=200')).toEqual(range(1, 55));
      expect(await seqs('?afterSeq=55')).toEqual([]);
    });

    it('answers 400 VALIDATION for bad paging parameters', async () => {
      const alice = await newUser();
      const room = (await createRoom(alice, { name: 'Q' }).expect(201)).body;
      for (const query of [
        '?limit=201',
        '?limit=0',
        '?limit=-1',
        '?limit=abc',
        '?limit=1.5',
        '?afterSeq=-1',
        '?afterSeq=x',
        '?beforeSeq=0',
        '?limit=1&limit=2',
        '?limit=',
      ]) {
        const res = await messages(alice, room.roomId, query);
        expect([query, res.status, codeOf(res)]).toEqual([query, 400, 'VALIDATION']);
      }
    });

    it('answers 403 NOT_A_MEMBER to a non-member and 404 ROOM_NOT_FOUND for an unknown room', async () => {
      const [alice, outsider] = [await newUser(), await newUser()];
      const room = (await createRoom(alice, { name: 'Private' }).expect(201)).body;
      await appendN(store, room.roomId, alice.userId, 1);
      expect(codeOf(await messages(outsider, room.roomId).expect(403))).toBe('NOT_A_MEMBER');
      expect(codeOf(await messages(alice, randomName('nothing')).expect(404))).toBe('ROOM_NOT_FOUND');
    });
  });
});
