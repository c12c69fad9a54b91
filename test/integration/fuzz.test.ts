import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';
import WebSocket from 'ws';
import type { App } from '../../src/app';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { BCRYPT_MAX_BYTES } from '../../src/auth/password-hasher';
import { ClientFrameSchema } from '../../src/protocol/frames';
import { AddMemberBody, CreateRoomBody, OpenDmBody, ReadBody, RegisterBody, RenameRoomBody } from '../../src/protocol/http-schemas';
import type { ServerFrame } from '../../src/protocol/frames';
import { TEST_JWT_SECRET, startMemoryApp } from '../support/apps';
import { DATABASE_URL, REDIS_URL, randomName, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { mutateJson, NASTY_STRINGS, type JsonObject } from '../support/json-mutator';
import { seededRandom, type SeededRandom } from '../support/seeded-random';
import { TestClient } from '../support/ws-client';

/**
 * Fuzz (issue 7, item 6): thousands of random and mutated WebSocket frames, REST bodies
 * and handshakes against two running instances (in-process, on one in-memory broker,
 * real PostgreSQL `chat_test` and real Redis), from a seeded generator (FUZZ_SEED replays
 * a run). An oracle — the protocol's own schemas plus a model of who exists and who is in
 * which room — says which inputs are valid writes. Afterwards: no answer was a 5xx, every
 * instance answers /healthz and /readyz 200, Object.prototype is untouched, and the rows of
 * the test's users, rooms, memberships and messages differ from the snapshot taken before
 * exactly by what the valid requests wrote.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed7);
const REST_INPUTS = 2_500;
const WS_FRAMES = 4_000;
const HANDSHAKES = 200;
const PASSWORD = 'correct horse battery';
const BODY_LIMIT = 16 * 1024;
const WS_LIMIT = 64 * 1024;

interface UserRow {
  id: string;
  display_name: string;
  password_hash: string;
}
interface RoomRow {
  id: string;
  name: string;
  created_by: string;
  last_seq: number;
}
interface MembershipRow {
  room_id: string;
  user_id: string;
}
interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  client_msg_id: string;
  text: string;
}
interface CursorRow {
  room_id: string;
  user_id: string;
  last_read_seq: number;
}
interface Snapshot {
  users: Map<string, UserRow>;
  rooms: Map<string, RoomRow>;
  memberships: Set<string>;
  messages: Map<string, MessageRow>;
  /** Read cursors, by membershipKey. */
  cursors: Map<string, number>;
}

/** What PostgreSQL keeps of a JS string: lone surrogates become U+FFFD in UTF-8. */
const asStored = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const membershipKey = (roomId: string, userId: string): string => `${roomId}\u0001${userId}`;

describe('fuzz: random and mutated inputs against two running instances', () => {
  const r: SeededRandom = seededRandom(SEED);
  const prefix = randomName('fz');
  const broker = new MemoryBroker();
  const apps: App[] = [];
  const db = new Client({ connectionString: DATABASE_URL });
  /** Every string userId an input names: the snapshot covers them too, wherever they come from. */
  const candidateIds = new Set<string>();
  let before: Snapshot;
  let createdUserIds: string[] = [];

  // The model the oracle keeps: who exists, tokens, rooms with members.
  const users = [0, 1, 2, 3].map((i) => `${prefix}-u${i}`);
  const tokenOf = new Map<string, string>();
  const existing = new Set<string>();
  const rooms = new Map<string, Set<string>>();
  /** The setup rooms' names (renames change them) and creators (who may remove others). */
  const roomNames = new Map<string, string>();
  const creatorOf = new Map<string, string>();
  /** Pairs (sorted, joined by a space) that have their direct room. */
  const dmPairs = new Set<string>();
  let r0 = '';
  let r2 = '';
  let r4 = '';

  beforeAll(async () => {
    await Promise.all([requirePostgres(), requireRedis()]);
    await db.connect();
    const env = {
      DATABASE_URL,
      REDIS_URL,
      // The fuzzer is one client sending as fast as it can: its own limits would only cut it short.
      WS_MSG_RATE_PER_SEC: '1000000',
      WS_MSG_BURST: '100000',
      WS_HANDSHAKES_PER_MIN: '1000000',
      WS_MAX_CONNECTIONS_PER_IP: '1000000',
      SEND_RATE_PER_SEC: '1000000',
      SEND_BURST: '10000',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
      LOGIN_MAX_FAILURES_PER_IP: '1000000',
      REGISTER_MAX_PER_IP: '1000000',
      WS_ALLOWED_ORIGINS: 'https://chat.example.com',
    };
    apps.push(await startMemoryApp({ env, memoryBroker: broker }));
    apps.push(await startMemoryApp({ env, memoryBroker: broker }));
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    // Remove what this run created (rooms have no foreign key to their creator).
    const ids = [...createdUserIds, ...users];
    await db.query('DELETE FROM rooms WHERE created_by = ANY($1)', [ids]).catch(() => undefined);
    await db.query('DELETE FROM users WHERE id = ANY($1)', [ids]).catch(() => undefined);
    await db.end();
  });

  const snapshot = async (): Promise<Snapshot> => {
    const ids = [...candidateIds, ...users];
    const roomIds = `SELECT id FROM rooms WHERE created_by = ANY($1) OR id IN (SELECT room_id FROM memberships WHERE user_id = ANY($1))`;
    const u = await db.query<UserRow>('SELECT id, display_name, password_hash FROM users WHERE id = ANY($1)', [ids]);
    const ro = await db.query<RoomRow>(`SELECT id, name, created_by, last_seq FROM rooms WHERE id IN (${roomIds})`, [ids]);
    const m = await db.query<MembershipRow>(`SELECT room_id, user_id FROM memberships WHERE room_id IN (${roomIds}) OR user_id = ANY($1)`, [
      ids,
    ]);
    const msg = await db.query<MessageRow>(
      `SELECT id, room_id, seq, sender_id, client_msg_id, text FROM messages WHERE room_id IN (${roomIds}) OR sender_id = ANY($1)`,
      [ids],
    );
    const cur = await db.query<CursorRow>(`SELECT room_id, user_id, last_read_seq FROM read_cursors WHERE room_id IN (${roomIds})`, [ids]);
    return {
      cursors: new Map(cur.rows.map((row) => [membershipKey(row.room_id, row.user_id), row.last_read_seq])),
      users: new Map(u.rows.map((row) => [row.id, row])),
      rooms: new Map(ro.rows.map((row) => [row.id, row])),
      memberships: new Set(m.rows.map((row) => membershipKey(row.room_id, row.user_id))),
      messages: new Map(msg.rows.map((row) => [row.id, row])),
    };
  };

  const ip = (): string => `2001:db8:${randomBytes(2).toString('hex')}:${r.int(65536).toString(16)}::1`;
  const call = async (
    app: App,
    method: string,
    path: string,
    { body, contentType = 'application/json', token }: { body?: string; contentType?: string; token?: string } = {},
  ) => {
    const headers: Record<string, string> = { 'x-forwarded-for': ip() };
    if (body !== undefined && contentType !== '') headers['content-type'] = contentType;
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(`${app.url()}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, text };
  };

  it('survives them all, and stored data changes only by the valid requests', async () => {
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let validWrites = 0;
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const note = (what: string, status: number, text: string) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) problems.push(`${what} -> ${status} ${text.slice(0, 200)}`);
      if (status >= 400) {
        try {
          const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string')
            problems.push(`${what} -> ${status} without the error shape: ${text.slice(0, 200)}`);
        } catch {
          problems.push(`${what} -> ${status} not JSON: ${text.slice(0, 200)}`);
        }
        if (/\bat \S+:\d+|node_modules|\.ts:\d+/.test(text)) problems.push(`${what} leaked a stack: ${text.slice(0, 200)}`);
      }
    };

    // --- Setup, through the API (counted as valid writes). ------------------------------
    const [a, b] = [apps[0]!, apps[1]!];
    /** The users' refresh tokens: the fuzzed refreshes rotate, reuse and garble them. */
    const refreshTokens: string[] = [];
    for (const u of users) {
      const reg = await call(a, 'POST', '/api/auth/register', { body: JSON.stringify({ userId: u, password: PASSWORD }) });
      expect(reg.status).toBe(201);
      validWrites++;
      existing.add(u);
      const login = await call(b, 'POST', '/api/auth/login', { body: JSON.stringify({ userId: u, password: PASSWORD }) });
      expect(login.status).toBe(200);
      const answer = JSON.parse(login.text) as { token: string; refreshToken: string };
      tokenOf.set(u, answer.token);
      refreshTokens.push(answer.refreshToken);
    }
    const makeRoom = async (creator: string, members: string[]): Promise<string> => {
      const res = await call(a, 'POST', '/api/rooms', {
        token: tokenOf.get(creator)!,
        body: JSON.stringify({ name: `fuzz ${creator}`, members }),
      });
      expect(res.status).toBe(201);
      validWrites++;
      const roomId = (JSON.parse(res.text) as { roomId: string }).roomId;
      rooms.set(roomId, new Set([creator, ...members]));
      roomNames.set(roomId, `fuzz ${creator}`);
      creatorOf.set(roomId, creator);
      return roomId;
    };
    r0 = await makeRoom(users[0]!, [users[1]!]);
    r2 = await makeRoom(users[2]!, [users[3]!]);
    // The room members may leave or be removed from (r0 and r2 keep theirs for the sends).
    r4 = await makeRoom(users[0]!, [users[1]!, users[2]!, users[3]!]);
    const ghost = `${prefix}-ghost`;
    const junkRoom = `${prefix}-no-room`;
    const setupWrites = validWrites;

    // --- Generate every REST input first, so the snapshot can cover every id they name. --
    interface RestInput {
      readonly what: string;
      readonly method: string;
      readonly path: string;
      readonly body?: string;
      readonly contentType: string;
      readonly token?: string;
      readonly app: App;
    }
    const validToken = (): string => tokenOf.get(r.pick(users))!;
    const tamperedToken = (): string => {
      const t = validToken();
      const at = t.lastIndexOf('.') + 5 + r.int(20);
      return `${t.slice(0, at)}${t[at] === 'A' ? 'B' : 'A'}${t.slice(at + 1)}`;
    };
    const badToken = (): string =>
      r.pick([
        tamperedToken(),
        'not.a.jwt',
        '',
        'a'.repeat(5_000),
        jwt.sign({ jti: 'x' }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
          subject: users[0]!,
          issuer: 'keyed-chat',
          audience: 'keyed-chat-clients',
          expiresIn: -10,
        }),
        jwt.sign({ jti: 'x' }, null, {
          algorithm: 'none',
          subject: users[0]!,
          issuer: 'keyed-chat',
          audience: 'keyed-chat-clients',
          expiresIn: 60,
        }),
        jwt.sign({ jti: 'x' }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
          subject: users[0]!,
          issuer: 'keyed-chat',
          audience: 'someone-else',
          expiresIn: 60,
        }),
      ]);
    const bodyFor = (base: JsonObject): { body: string; mutations: readonly string[] } => {
      if (r.chance(0.15)) return { body: JSON.stringify(base), mutations: ['none'] };
      const m = mutateJson(r, base, { maxLongString: r.chance(0.1) ? 20_000 : 5_000 });
      return { body: m.text, mutations: m.mutations };
    };
    const contentType = (): string =>
      r.chance(0.92)
        ? 'application/json'
        : r.pick([
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=utf-16',
            'multipart/form-data; boundary=x',
            '',
          ]);
    const inputs: RestInput[] = [];
    for (let i = 0; i < REST_INPUTS; i++) {
      const app = r.pick(apps);
      const roll = r.next();
      const ct = contentType();
      if (roll < 0.22) {
        const { body } = bodyFor({ userId: `${prefix}-r${i}`, password: `password-${i}`, displayName: `Fuzz ${i}` });
        inputs.push({ what: 'register', method: 'POST', path: '/api/auth/register', body, contentType: ct, app });
      } else if (roll < 0.4) {
        const { body } = bodyFor({
          userId: r.pick([...users, ghost]),
          password: r.pick([PASSWORD, 'wrong password', r.pick(NASTY_STRINGS)]),
        });
        inputs.push({ what: 'login', method: 'POST', path: '/api/auth/login', body, contentType: ct, app });
      } else if (roll < 0.52) {
        const members = users.filter(() => r.chance(0.3));
        if (r.chance(0.2)) members.push(ghost);
        const { body } = bodyFor({ name: `room ${i} ${r.pick(NASTY_STRINGS)}`, members });
        inputs.push({
          what: 'create room',
          method: 'POST',
          path: '/api/rooms',
          body,
          contentType: ct,
          token: r.chance(0.85) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.63) {
        const roomId = r.pick([r0, r2, junkRoom, r.pick(NASTY_STRINGS.filter((s) => !/[\uD800-\uDFFF]/.test(s))), 'r'.repeat(101)]);
        const { body } = bodyFor({ userId: r.pick([...users, ghost]) });
        inputs.push({
          what: 'add member',
          method: 'POST',
          path: `/api/rooms/${encodeURIComponent(roomId)}/members`,
          body,
          contentType: ct,
          token: r.chance(0.85) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.68) {
        const { body } = bodyFor({ userId: r.pick([...users, ghost]) });
        const token = r.chance(0.85) ? validToken() : badToken();
        inputs.push({ what: 'open dm', method: 'POST', path: '/api/dms', body, contentType: ct, token, app });
      } else if (roll < 0.73) {
        const roomId = r.pick([r0, r2, r4, junkRoom, 'r'.repeat(101)]);
        const { body } = bodyFor({ name: `renamed ${i} ${r.pick(NASTY_STRINGS)}` });
        const token = r.chance(0.85) ? validToken() : badToken();
        inputs.push({
          what: 'rename room',
          method: 'PATCH',
          path: `/api/rooms/${encodeURIComponent(roomId)}`,
          body,
          contentType: ct,
          token,
          app,
        });
      } else if (roll < 0.78) {
        const roomId = r.pick([r4, r4, junkRoom, '..']);
        const target = r.pick([...users, ghost, 'x', r.pick(NASTY_STRINGS.filter((x) => !/[\uD800-\uDFFF]/.test(x)))]);
        const token = r.chance(0.85) ? validToken() : badToken();
        inputs.push({
          what: 'remove member',
          method: 'DELETE',
          path: `/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(target)}`,
          contentType: ct,
          token,
          app,
        });
      } else if (roll < 0.85) {
        const roomId = r.pick([r0, r2, junkRoom, '%2e%2e', '..']);
        const query = r.pick([
          '',
          '?limit=5',
          '?afterSeq=-1',
          '?limit=99999999999',
          '?limit=1&limit=2',
          '?beforeSeq=0',
          '?__proto__[polluted]=1',
          '?constructor[prototype][polluted]=1',
          `?afterSeq=${r.pick(NASTY_STRINGS.filter((s) => !/[\uD800-\uDFFF]/.test(s))).replace(/[#&]/g, '')}`,
        ]);
        inputs.push({
          what: 'messages',
          method: 'GET',
          path: `/api/rooms/${encodeURIComponent(roomId)}/messages${query.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c))}`,
          contentType: ct,
          token: r.chance(0.8) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.865) {
        const q = r.pick([
          'q=a',
          'q=',
          `q=${'x'.repeat(65)}`,
          'q=%25',
          'q=_',
          'q=%5C',
          'q=a&q=b',
          'q=a&limit=0',
          'q=a&limit=51',
          'q=a&limit=-1',
          'q=%00',
          '__proto__[q]=1',
          `q=${encodeURIComponent(r.pick(NASTY_STRINGS.filter((x) => !/[\uD800-\uDFFF]/.test(x))))}`,
        ]);
        inputs.push({
          what: 'search users',
          method: 'GET',
          path: `/api/users?${q}`,
          contentType: ct,
          token: r.chance(0.8) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.88) {
        const roomId = r.pick([r0, r2, junkRoom, 'r'.repeat(101)]);
        const { body } = bodyFor({ seq: r.pick([0, 0, 1, 2, 2_147_483_648]) });
        inputs.push({
          what: 'mark read',
          method: 'POST',
          path: `/api/rooms/${encodeURIComponent(roomId)}/read`,
          body,
          contentType: ct,
          token: r.chance(0.85) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.9) {
        inputs.push({
          what: 'read',
          method: 'GET',
          path: r.pick([
            '/api/rooms',
            '/api/me',
            '/api/rooms?limit=2',
            '/api/rooms?limit=0',
            '/api/rooms?cursor=junk',
            '/api/rooms?limit=101',
          ]),
          contentType: ct,
          token: r.chance(0.7) ? validToken() : badToken(),
          app,
        });
      } else if (roll < 0.915) {
        inputs.push({ what: 'logout (bad token)', method: 'POST', path: '/api/auth/logout', contentType: ct, token: badToken(), app });
      } else if (roll < 0.93) {
        const { body } = bodyFor({ refreshToken: r.chance(0.5) ? r.pick(refreshTokens) : r.pick(NASTY_STRINGS) });
        inputs.push({ what: 'refresh', method: 'POST', path: '/api/auth/refresh', body, contentType: ct, app });
      } else if (roll < 0.96) {
        const { body } = bodyFor({ text: `announcement ${i}` });
        inputs.push({
          what: 'announce (not admin)',
          method: 'POST',
          path: '/api/admin/announcements',
          body,
          contentType: ct,
          token: validToken(),
          app,
        });
      } else {
        const method = r.pick(['PUT', 'DELETE', 'PATCH', 'POST', 'GET']);
        const path = r.pick([
          '/api/rooms/x/members/y',
          '/api/../../etc/passwd',
          '/api/rooms/%00',
          '/api/%ZZ',
          '/api/auth/register/',
          '/API/ROOMS',
          '/api/rooms?__proto__[x]=1',
          `/${r.string(20)}`,
        ]);
        // fetch sends no body with GET.
        const body = method !== 'GET' && r.chance(0.5) ? r.string(r.int(BODY_LIMIT * 2), '{}[]":,abc\u00ff') : undefined;
        inputs.push({
          what: `${method} ${path}`,
          method,
          path,
          ...(body === undefined ? {} : { body }),
          contentType: ct,
          token: r.chance(0.5) ? validToken() : badToken(),
          app,
        });
      }
    }
    /** What express.json would hand a route, or undefined when the route gets no usable body. */
    const parsedBody = (input: RestInput): unknown => {
      if (input.body === undefined || input.contentType !== 'application/json' || Buffer.byteLength(input.body) > BODY_LIMIT)
        return undefined;
      try {
        return JSON.parse(input.body) as unknown;
      } catch {
        return undefined;
      }
    };
    for (const input of inputs) {
      const body = parsedBody(input);
      // A NUL cannot be in a PostgreSQL text value at all, so no row can have such an id.
      if (
        typeof body === 'object' &&
        body !== null &&
        'userId' in body &&
        typeof body.userId === 'string' &&
        !body.userId.includes('\u0000')
      )
        candidateIds.add(body.userId);
    }

    // --- WebSocket frames, generated up front too. --------------------------------------
    interface FrameInput {
      readonly user: string;
      readonly data: string | Buffer;
    }
    const frames: FrameInput[] = [];
    for (let i = 0; i < WS_FRAMES; i++) {
      const user = r.pick(users);
      if (r.chance(0.02)) {
        frames.push({ user, data: Buffer.from(r.string(1 + r.int(64), '\u0000\u0001\u00ffab')) });
        continue;
      }
      const roll = r.next();
      // Edits and deletes (v1.1) name messages the fuzzer cannot know (their ids are the
      // server's), so every one must be refused with nothing written.
      const change = (): JsonObject => ({
        type: r.pick(['edit', 'delete']),
        roomId: r.pick([r0, r2, junkRoom]),
        messageId: r.pick([`${prefix}-no-msg-${i}`, 'x', 'm'.repeat(100)]),
        ...(r.chance(0.5) ? { text: `edited ${i}` } : {}),
        ...(r.chance(0.7) ? { clientMsgId: `${prefix}-e${i}` } : {}),
      });
      const base: JsonObject =
        roll < 0.52
          ? { type: 'send', roomId: r.pick([r0, r0, r2, junkRoom]), clientMsgId: `${prefix}-m${i}`, text: `hello ${i}` }
          : roll < 0.6
            ? change()
            : roll < 0.72
              ? { type: 'typing', roomId: r.pick([r0, r2, junkRoom]) }
              : roll < 0.9
                ? { type: 'ping' }
                : roll < 0.92
                  ? { type: 'resume', rooms: { [r.pick([r0, r2, junkRoom])]: r.pick([0, 5, 1_000_000]) } }
                  : roll < 0.97
                    ? { type: 'read', roomId: r.pick([r0, r0, r2, junkRoom]), seq: r.pick([0, 1, 3, 40, 1_000_000]) }
                    : { type: r.string(1 + r.int(10)) };
      frames.push({ user, data: r.chance(0.2) ? JSON.stringify(base) : mutateJson(r, base).text });
    }

    const handshakes: { token: string | undefined; origin: string | undefined; path: string; expect: number }[] = [];
    for (let i = 0; i < HANDSHAKES; i++) {
      const tokenKind = r.pick(['valid', 'bad', 'none'] as const);
      const origin = r.pick([undefined, 'https://chat.example.com', 'https://evil.example', 'null']);
      const path = r.pick(['/ws', '/ws', '/ws', '/ws/', '/WS', '/wss', '/ws/../ws']);
      const token = tokenKind === 'valid' ? validToken() : tokenKind === 'bad' ? badToken() : undefined;
      // Refused in this order: path (404), origin (403), token (401).
      const pathOk = path === '/ws' || path === '/ws/../ws';
      const originOk = origin === undefined || origin === 'https://chat.example.com';
      handshakes.push({ token, origin, path, expect: !pathOk ? 404 : !originOk ? 403 : tokenKind !== 'valid' ? 401 : 101 });
    }

    before = await snapshot();
    for (const id of candidateIds) if (before.users.has(id)) existing.add(id);
    // The sorted members of the rooms the valid creations will make.
    const expectedNewRooms: string[] = [];
    const expectedUsers = new Map<string, string>();

    // --- REST phase. ----------------------------------------------------------------------
    for (const [i, input] of inputs.entries()) {
      const res = await call(input.app, input.method, input.path, {
        ...(input.body === undefined ? {} : { body: input.body }),
        contentType: input.contentType,
        ...(input.token === undefined ? {} : { token: input.token }),
      });
      note(`rest#${i} ${input.what}`, res.status, res.text);
      // The oracle: would this request write, and what?
      const body = parsedBody(input);
      const caller = input.token === undefined ? undefined : [...tokenOf.entries()].find(([, t]) => t === input.token)?.[0];
      let wrote = false;
      if (input.what === 'register') {
        const parsed = RegisterBody.safeParse(body);
        if (parsed.success && Buffer.byteLength(parsed.data.password) <= BCRYPT_MAX_BYTES && !existing.has(parsed.data.userId)) {
          existing.add(parsed.data.userId);
          expectedUsers.set(parsed.data.userId, parsed.data.displayName ?? parsed.data.userId);
          wrote = true;
        }
      } else if (input.what === 'create room' && caller !== undefined) {
        const parsed = CreateRoomBody.safeParse(body);
        if (parsed.success && (parsed.data.members ?? []).every((m) => existing.has(m))) {
          expectedNewRooms.push(`${caller}|${parsed.data.name}|${[...new Set([caller, ...(parsed.data.members ?? [])])].sort().join(',')}`);
          wrote = true;
        }
      } else if (input.what === 'open dm') {
        const parsed = OpenDmBody.safeParse(body);
        const valid = caller !== undefined && parsed.success && existing.has(parsed.data.userId) && parsed.data.userId !== caller;
        if (valid) {
          const pair = [caller, parsed.data.userId].sort();
          if (!dmPairs.has(pair.join(' '))) {
            dmPairs.add(pair.join(' '));
            expectedNewRooms.push(`${caller}|${pair.join(', ')}|${pair.join(',')}`);
            wrote = true;
          } else if (res.status !== 200) problems.push(`rest#${i} open dm (exists) got ${res.status} ${res.text.slice(0, 200)}`);
        } else if (res.status < 300)
          problems.push(`rest#${i} open dm is invalid but got ${res.status} for ${String(input.body).slice(0, 200)}`);
      } else if (input.what === 'rename room') {
        const roomId = decodeURIComponent(input.path.split('/')[3]!);
        const parsed = RenameRoomBody.safeParse(body);
        const valid = caller !== undefined && parsed.success && rooms.get(roomId)?.has(caller) === true;
        if (valid) {
          if (res.status !== 200) problems.push(`rest#${i} rename is valid but got ${res.status} ${res.text.slice(0, 200)}`);
          wrote = roomNames.get(roomId) !== parsed.data.name;
          roomNames.set(roomId, parsed.data.name);
        } else if (res.status < 300)
          problems.push(`rest#${i} rename is invalid but got ${res.status} for ${String(input.body).slice(0, 200)}`);
      } else if (input.what === 'remove member') {
        const [, , , rawRoom, , rawTarget] = input.path.split('/');
        const roomId = decodeURIComponent(rawRoom!);
        const target = decodeURIComponent(rawTarget!);
        const members = rooms.get(roomId);
        const valid =
          caller !== undefined &&
          members !== undefined &&
          members.has(caller) &&
          members.has(target) &&
          (caller === target || creatorOf.get(roomId) === caller);
        if (valid) {
          members.delete(target);
          wrote = true;
        } else if (res.status < 300) problems.push(`rest#${i} remove member is invalid but got ${res.status}`);
      } else if (input.what === 'mark read') {
        // The setup rooms have no message yet: a member's read of 0 is a no-op (204), any
        // higher seq is READ_PAST_END; either way nothing is written.
        const roomId = decodeURIComponent(input.path.split('/')[3]!);
        const parsed = ReadBody.safeParse(body);
        const member = caller !== undefined && rooms.get(roomId)?.has(caller) === true;
        const want =
          !parsed.success || caller === undefined || roomId.length > 100
            ? undefined
            : !rooms.has(roomId)
              ? 404
              : !member
                ? 403
                : parsed.data.seq === 0
                  ? 204
                  : 400;
        if (want !== undefined && res.status !== want)
          problems.push(`rest#${i} mark read expected ${want}, got ${res.status} ${res.text.slice(0, 200)}`);
        if (want === 400 && !res.text.includes('READ_PAST_END'))
          problems.push(`rest#${i} mark read past the end: ${res.text.slice(0, 200)}`);
        if (want === undefined && res.status < 300) problems.push(`rest#${i} mark read is invalid but got ${res.status}`);
      } else if (input.what === 'add member' && caller !== undefined) {
        const roomId = decodeURIComponent(input.path.split('/')[3]!);
        const parsed = AddMemberBody.safeParse(body);
        const members = rooms.get(roomId);
        if (parsed.success && members !== undefined && members.has(caller) && existing.has(parsed.data.userId)) {
          members.add(parsed.data.userId);
          wrote = true;
        }
      }
      if (wrote) {
        validWrites++;
        if (res.status >= 300) problems.push(`rest#${i} ${input.what} is valid but got ${res.status} ${res.text.slice(0, 200)}`);
      } else if ((input.what === 'register' || input.what === 'create room' || input.what === 'add member') && res.status < 300) {
        problems.push(
          `rest#${i} ${input.what} is invalid but got ${res.status} ${res.text.slice(0, 200)} for ${String(input.body).slice(0, 200)}`,
        );
      }
    }
    createdUserIds = [...expectedUsers.keys()];

    // --- Handshake phase. -----------------------------------------------------------------
    for (const [i, h] of handshakes.entries()) {
      const app = r.pick(apps);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${app.url().replace(/^http/, 'ws')}${h.path}`, {
          headers: { 'x-forwarded-for': ip(), ...(h.token === undefined ? {} : { authorization: `Bearer ${h.token}` }) },
          ...(h.origin === undefined ? {} : { origin: h.origin }),
        });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.on('error', () => resolve(0));
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== h.expect) problems.push(`handshake#${i} ${h.path} origin=${String(h.origin)} expected ${h.expect}, got ${status}`);
    }

    // --- WebSocket phase. -----------------------------------------------------------------
    const sockets = new Map<string, TestClient>();
    for (const [i, u] of users.entries())
      sockets.set(u, await TestClient.connect(apps[i % 2]!.url(), tokenOf.get(u)!, u, { headers: { 'x-forwarded-for': ip() } }));
    /** (sender, clientMsgId) -> the first valid send: what must be stored. */
    const expectedMessages = new Map<string, { roomId: string; text: string }>();
    const expectedAcks = new Map<string, Set<string>>(users.map((u) => [u, new Set<string>()]));
    /** Per user, the refs of schema-valid edit/delete frames: each must get an error frame with that ref. */
    const expectedRefusals = new Map<string, Set<string>>(users.map((u) => [u, new Set<string>()]));
    /** membershipKey → the seqs valid `read` frames of that member asked for (which ones land depends on the sends' interleaving). */
    const readsAsked = new Map<string, Set<number>>();
    let validFrames = 0;
    let oversize = 0;
    for (const [i, f] of frames.entries()) {
      const bytes = typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.length;
      if (bytes > WS_LIMIT) {
        // A socket of its own, which must be closed with 1009.
        oversize++;
        const victim = await TestClient.connect(apps[i % 2]!.url(), tokenOf.get(f.user)!, `oversize-${i}`, {
          headers: { 'x-forwarded-for': ip() },
        });
        victim.ws.send(f.data);
        const code = await victim.closed();
        if (code !== 1009) problems.push(`frame#${i} of ${bytes} bytes closed with ${code}, not 1009`);
        continue;
      }
      sockets.get(f.user)!.ws.send(f.data);
      if (typeof f.data !== 'string') continue;
      let json: unknown;
      try {
        json = JSON.parse(f.data);
      } catch {
        continue;
      }
      const parsed = ClientFrameSchema.safeParse(json);
      if (!parsed.success) continue;
      validFrames++;
      const frame = parsed.data;
      if (frame.type === 'send' && rooms.get(frame.roomId)?.has(f.user) === true) {
        const key = `${f.user}\u0001${frame.clientMsgId}`;
        if (!expectedMessages.has(key)) expectedMessages.set(key, { roomId: frame.roomId, text: frame.text });
        expectedAcks.get(f.user)!.add(frame.clientMsgId);
      }
      // A change whose clientMsgId a stored send already has is that send's repeat (an ack).
      if ((frame.type === 'edit' || frame.type === 'delete') && !expectedMessages.has(`${f.user}\u0001${frame.clientMsgId ?? ''}`))
        expectedRefusals.get(f.user)!.add(frame.clientMsgId ?? frame.messageId);
      if (frame.type === 'read' && rooms.get(frame.roomId)?.has(f.user) === true) {
        const key = membershipKey(frame.roomId, f.user);
        readsAsked.set(key, (readsAsked.get(key) ?? new Set()).add(frame.seq));
      }
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Barrier: one more valid send per user; its ack comes after every earlier send of that
    // user is handled (one partition per user, handled in order).
    for (const u of users) {
      const roomId = rooms.get(r0)!.has(u) ? r0 : r2;
      const clientMsgId = `${prefix}-barrier-${u}`;
      sockets.get(u)!.send({ type: 'send', roomId, clientMsgId, text: 'barrier' });
      expectedMessages.set(`${u}\u0001${clientMsgId}`, { roomId, text: 'barrier' });
      expectedAcks.get(u)!.add(clientMsgId);
      validWrites++;
    }
    for (const u of users) {
      const socket = sockets.get(u)!;
      const acked = (): Set<string> => new Set(socket.of('ack').map((f: Extract<ServerFrame, { type: 'ack' }>) => f.clientMsgId));
      await waitFor(`acks of ${u}`, () => [...expectedAcks.get(u)!].every((id) => acked().has(id)), { timeoutMs: 30_000 }).catch(() => {
        const missing = [...expectedAcks.get(u)!].filter((id) => !acked().has(id));
        problems.push(
          `${u}: ${missing.length} valid sends never acked, e.g. ${missing.slice(0, 3).join(', ')}; errors: ${JSON.stringify(socket.of('error').slice(-3))}`,
        );
      });
      // The barrier's ack came after every earlier frame of the user was handled: the refusals are in.
      const refused = new Map(socket.of('error').map((f: Extract<ServerFrame, { type: 'error' }>) => [f.ref, f.code]));
      for (const ref of expectedRefusals.get(u)!) {
        const code = refused.get(ref);
        if (code === undefined) problems.push(`${u}: the edit/delete ${ref} got no error frame`);
        else if (!['MESSAGE_NOT_FOUND', 'NOT_A_MEMBER', 'ROOM_NOT_FOUND'].includes(code))
          problems.push(`${u}: edit/delete ${ref} refused with ${code}`);
      }
      if (socket.closeCode !== undefined) problems.push(`${u}'s socket was closed with ${socket.closeCode}`);
    }
    validWrites += expectedMessages.size - users.length;
    const changeFrames = [...expectedRefusals.values()].reduce((n, refs) => n + refs.size, 0);
    if (changeFrames === 0) problems.push('no schema-valid edit or delete frame was tried');

    // --- Afterwards: healthy, unpolluted, and only the valid writes in the database. -------
    for (const app of apps) {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${app.url()}${path}`);
        if (res.status !== 200) problems.push(`${app.config.instanceId} ${path} -> ${res.status} ${await res.text()}`);
      }
    }
    if (JSON.stringify(Object.getOwnPropertyNames(Object.prototype).sort()) !== JSON.stringify(protoBefore))
      problems.push('Object.prototype changed');
    if (({} as Record<string, unknown>)['polluted'] !== undefined) problems.push('Object.prototype was polluted');
    for (const s of sockets.values()) await s.close();

    const after = await snapshot();
    // Users: the ones before, unchanged, plus exactly the valid registrations.
    for (const [id, row] of before.users)
      if (JSON.stringify(after.users.get(id)) !== JSON.stringify(row)) problems.push(`user ${id} changed`);
    const newUsers = [...after.users.keys()].filter((id) => !before.users.has(id)).sort();
    if (JSON.stringify(newUsers) !== JSON.stringify([...expectedUsers.keys()].sort()))
      problems.push(`new users ${newUsers.length} != expected ${expectedUsers.size}`);
    for (const id of newUsers) {
      const row = after.users.get(id)!;
      if (row.display_name !== asStored(expectedUsers.get(id) ?? ''))
        problems.push(`user ${id} has display name ${JSON.stringify(row.display_name)}`);
      if (!row.password_hash.startsWith('$2b$04$')) problems.push(`user ${id} has no bcrypt hash`);
    }
    // Rooms: the two of the setup (their last_seq moved by their messages) plus the valid creations.
    const newRooms = [...after.rooms.values()].filter((room) => !before.rooms.has(room.id));
    const describeRoom = (room: RoomRow): string =>
      `${room.created_by}|${room.name}|${[...after.memberships]
        .filter((k) => k.startsWith(`${room.id}\u0001`))
        .map((k) => k.split('\u0001')[1])
        .sort()
        .join(',')}`;
    const gotRooms = newRooms.map(describeRoom).sort();
    const wantRooms = expectedNewRooms.map((d) => asStored(d)).sort();
    if (JSON.stringify(gotRooms) !== JSON.stringify(wantRooms))
      problems.push(`new rooms differ: got ${gotRooms.length}, expected ${wantRooms.length}`);
    for (const [id, row] of before.rooms) {
      const now = after.rooms.get(id);
      const name = roomNames.get(id) === undefined ? row.name : asStored(roomNames.get(id)!);
      if (now === undefined || now.name !== name || now.created_by !== row.created_by) problems.push(`room ${id} changed`);
    }
    // Memberships of the setup rooms: exactly the model's.
    for (const [roomId, members] of rooms) {
      const got = [...after.memberships]
        .filter((k) => k.startsWith(`${roomId}\u0001`))
        .map((k) => k.split('\u0001')[1])
        .sort();
      if (JSON.stringify(got) !== JSON.stringify([...members].sort()))
        problems.push(`members of ${roomId}: ${got.join(',')} != ${[...members].sort().join(',')}`);
    }
    // Messages: none changed, and the new ones are exactly the valid sends, numbered 1..n per room.
    for (const [id, row] of before.messages)
      if (JSON.stringify(after.messages.get(id)) !== JSON.stringify(row)) problems.push(`message ${id} changed`);
    const newMessages = [...after.messages.values()].filter((m) => !before.messages.has(m.id));
    const gotKeys = new Set(newMessages.map((m) => `${m.sender_id}\u0001${m.client_msg_id}`));
    for (const [key, want] of expectedMessages) {
      const m = newMessages.find((x) => `${x.sender_id}\u0001${x.client_msg_id}` === key);
      if (m === undefined) problems.push(`valid send ${key.replace('\u0001', '/')} was not stored`);
      else if (m.room_id !== want.roomId || m.text !== asStored(want.text))
        problems.push(`send ${key.replace('\u0001', '/')} stored as ${m.room_id}/${JSON.stringify(m.text.slice(0, 50))}`);
    }
    for (const key of gotKeys)
      if (!expectedMessages.has(key)) problems.push(`stored a message no valid send asked for: ${key.replace('\u0001', '/')}`);
    // Read cursors: only members that sent a `read` have one, at a seq they asked for, never past the room's end
    // (REST reads wrote none: see above). The barrier acks came after every earlier frame of the user was handled.
    for (const [key, seq] of after.cursors) {
      const [roomId, userId] = key.split('\u0001') as [string, string];
      if (!readsAsked.get(key)?.has(seq)) problems.push(`cursor of ${userId} in ${roomId} is ${seq}, which no valid read asked for`);
      if (seq > (after.rooms.get(roomId)?.last_seq ?? 0)) problems.push(`cursor of ${userId} in ${roomId} is past the room's end`);
    }
    for (const [key, seq] of before.cursors) if ((after.cursors.get(key) ?? 0) < seq) problems.push(`cursor ${key} went back`);
    for (const [roomId] of rooms) {
      const seqs = [...after.messages.values()]
        .filter((m) => m.room_id === roomId)
        .map((m) => m.seq)
        .sort((x, y) => x - y);
      if (seqs.some((s, i) => s !== i + 1)) problems.push(`room ${roomId} seqs are not 1..${seqs.length}`);
      if (after.rooms.get(roomId)?.last_seq !== seqs.length)
        problems.push(`room ${roomId} last_seq ${String(after.rooms.get(roomId)?.last_seq)} != ${seqs.length} messages`);
    }

    const tried = REST_INPUTS + WS_FRAMES + HANDSHAKES;
    const summary = [
      `fuzz seed ${SEED}: ${tried} inputs tried — ${REST_INPUTS} REST requests, ${WS_FRAMES} WebSocket frames (${oversize} over 64 KiB), ${HANDSHAKES} handshakes`,
      `answers by status: ${[...statuses.entries()]
        .sort(([x], [y]) => x - y)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
      `valid: ${validWrites - setupWrites} writes (${expectedUsers.size} users, ${expectedNewRooms.length} rooms, ${expectedMessages.size} messages incl. ${users.length} barriers, plus member adds), ${validFrames} schema-valid frames`,
      problems.length === 0
        ? `result: no crash, no 5xx, ${apps.length} instances healthy (/healthz, /readyz 200), stored rows changed only by the valid requests`
        : `result: ${problems.length} problems:\n  ${problems.slice(0, 30).join('\n  ')}`,
    ].join('\n');
    console.log(summary);
    expect(problems).toEqual([]);
  }, 300_000);
});
