import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import WebSocket from 'ws';
import type { App } from '../../src/app';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { createTokenService } from '../../src/auth/token-service';
import { CloseCodes } from '../../src/protocol/close-codes';
import { MAX_TEXT_LENGTH } from '../../src/protocol/message';
import type { ChatStore } from '../../src/ports/chat-store';
import { TEST_JWT_SECRET, startMemoryApp } from '../support/apps';
import { randomName, waitFor } from '../support/infra';
import { TestClient } from '../support/ws-client';

/**
 * The WebSocket boundary (issue 7, item 1) on in-process instances over the in-memory bus:
 * what a stranger can do to /ws before and after the upgrade. Each test acts as its own
 * client IP (X-Forwarded-For from loopback is trusted, as behind a local proxy), so the
 * per-IP handshake limit of one test does not reach another.
 */
const ALLOWED_ORIGIN = 'https://chat.example.com';

describe('WebSocket security (in-memory bus)', () => {
  const broker = new MemoryBroker();
  const store: ChatStore = createMemoryChatStore();
  const tokens = createTokenService({ secret: TEST_JWT_SECRET, issuer: 'keyed-chat', audience: 'keyed-chat-clients', ttlSeconds: 600 });
  let a: App;
  let b: App;
  const open: TestClient[] = [];
  // The gateways' rate-limit clock, moved by hand where a test needs time to pass.
  let clock = Date.now();
  const now = (): number => clock;

  beforeAll(async () => {
    const env = { WS_ALLOWED_ORIGINS: ALLOWED_ORIGIN, SEND_RATE_PER_SEC: '1000', SEND_BURST: '1000' };
    a = await startMemoryApp({ env, memoryBroker: broker, store, now });
    b = await startMemoryApp({ env, memoryBroker: broker, store, now });
  });
  afterAll(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await a?.stop();
    await b?.stop();
  });

  /** A client IP of its own (TEST-NET-3 plus random bits, so runs do not share one). */
  const newIp = (): string => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;
  const wsUrl = (app: App): string => `${app.url().replace(/^http/, 'ws')}/ws`;
  const connect = async (app: App, token: string, headers: Record<string, string> = {}): Promise<TestClient> => {
    const client = await TestClient.connect(app.url(), token, randomName('c'), { headers: { 'x-forwarded-for': newIp(), ...headers } });
    open.push(client);
    return client;
  };

  type Handshake =
    | { readonly opened: true; readonly headers: IncomingHttpHeaders; readonly ws: WebSocket }
    | { readonly opened: false; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: string };
  /** One handshake with full control of its headers; says whether it upgraded or what HTTP answer it got. */
  const handshake = (url: string, headers: Record<string, string>, options: { perMessageDeflate?: boolean } = {}): Promise<Handshake> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: options.perMessageDeflate ?? false });
      let upgradeHeaders: IncomingHttpHeaders = {};
      ws.on('upgrade', (res) => (upgradeHeaders = res.headers));
      ws.on('open', () => resolve({ opened: true, headers: upgradeHeaders, ws }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      ws.on('error', (error) => reject(error));
    });
  const statusOf = (h: Handshake): number => {
    if (h.opened) {
      h.ws.close();
      return 101;
    }
    return h.status;
  };
  const newUser = async (): Promise<string> => {
    const userId = randomName('u');
    await store.createUser({ userId, displayName: userId, passwordHash: 'unused' });
    return userId;
  };

  describe('Origin allow-list (cross-site WebSocket hijacking)', () => {
    it('allows no Origin (non-browser clients), the same origin and a listed origin', async () => {
      const token = tokens.issue(await newUser()).token;
      const host = new URL(a.url()).host;
      for (const origin of [undefined, `http://${host}`, ALLOWED_ORIGIN]) {
        const headers: Record<string, string> = {
          authorization: `Bearer ${token}`,
          'x-forwarded-for': newIp(),
          ...(origin === undefined ? {} : { origin }),
        };
        expect([origin, statusOf(await handshake(wsUrl(a), headers))]).toEqual([origin, 101]);
      }
    });

    it('refuses any other origin with 403 before the upgrade, even with a valid token', async () => {
      const token = tokens.issue(await newUser()).token;
      const port = new URL(a.url()).port;
      for (const origin of [
        'https://evil.example',
        'null',
        `http://127.0.0.1:${Number(port) + 1}`,
        `http://localhost:${port}`,
        'http://chat.example.com',
        'ws://chat.example.com',
        'not a url',
      ]) {
        const res = await handshake(wsUrl(a), { authorization: `Bearer ${token}`, 'x-forwarded-for': newIp(), origin });
        expect([origin, res.opened]).toEqual([origin, false]);
        if (res.opened) continue;
        expect([origin, res.status, JSON.parse(res.body).error.code]).toEqual([origin, 403, 'FORBIDDEN']);
      }
      expect(a.connections.all().some((c) => c.jti === tokens.verify(token).jti)).toBe(false);
    });
  });

  describe('per-IP handshake rate limit', () => {
    it('answers 429 with Retry-After once an IP has made 30 handshakes in a minute; other IPs are unaffected', async () => {
      const ip = newIp();
      // No token: every attempt is refused (401), and still counts.
      for (let i = 0; i < 30; i++) expect(statusOf(await handshake(wsUrl(a), { 'x-forwarded-for': ip }))).toBe(401);
      const limited = await handshake(wsUrl(a), { 'x-forwarded-for': ip, authorization: `Bearer ${tokens.issue(await newUser()).token}` });
      expect(limited.opened).toBe(false);
      if (limited.opened) return;
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body).error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(statusOf(await handshake(wsUrl(a), { 'x-forwarded-for': newIp() }))).toBe(401);
      // Per instance: the other instance has its own count.
      expect(statusOf(await handshake(wsUrl(b), { 'x-forwarded-for': ip }))).toBe(401);
      const metrics = await request(a.http).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/chat_security_refusals_total\{reason="ws_handshake_rate"\} [1-9]/);
    });
  });

  describe('frames', () => {
    it('closes a connection that floods frames with 4008; a client within rate and burst is served', async () => {
      const client = await connect(a, tokens.issue(await newUser()).token);
      for (let i = 0; i < 40; i++) client.send({ type: 'ping' });
      await waitFor('40 pongs', () => client.of('pong').length === 40, { timeoutMs: 5_000 });
      clock += 1_000; // a second passes: 20 tokens back
      for (let i = 0; i < 15; i++) client.send({ type: 'ping' });
      await waitFor('55 pongs', () => client.of('pong').length === 55, { timeoutMs: 5_000 });
      expect(client.closeCode).toBeUndefined();
      for (let i = 0; i < 200; i++) client.send({ type: 'ping' });
      expect(await client.closed()).toBe(CloseCodes.POLICY);
      expect(client.of('pong').length).toBeLessThan(55 + 200);
    });

    it('answers malformed JSON, unknown frame types, bad fields and binary frames with an error frame, and the socket stays open', async () => {
      const client = await connect(a, tokens.issue(await newUser()).token);
      const bad: [string | Buffer, string, RegExp][] = [
        ['{not json', 'INVALID_JSON', /not valid JSON/],
        ['', 'INVALID_JSON', /not valid JSON/],
        ['{"type":"teleport"}', 'VALIDATION', /unknown frame type teleport/],
        ['{"type":"send","roomId":"r"}', 'VALIDATION', /clientMsgId/],
        ['[1,2,3]', 'VALIDATION', /./],
        ['"ping"', 'VALIDATION', /./],
        ['null', 'VALIDATION', /./],
        ['{"type":"resume","rooms":{"r":-1}}', 'VALIDATION', /rooms/],
        ['{"__proto__":{"type":"ping"}}', 'VALIDATION', /./],
        [Buffer.from([1, 2, 3]), 'VALIDATION', /binary/],
      ];
      for (const [i, [data, code, message]] of bad.entries()) {
        client.ws.send(data);
        await waitFor(`error frame ${i}`, () => client.of('error').length === i + 1, { timeoutMs: 5_000 });
        const error = client.of('error')[i];
        expect([data.toString(), error]).toEqual([
          data.toString(),
          expect.objectContaining({ type: 'error', code, message: expect.stringMatching(message) }),
        ]);
      }
      client.send({ type: 'ping' });
      await client.waitFor('pong after the bad frames', (f) => f.type === 'pong', 5_000);
      expect(client.closeCode).toBeUndefined();
      expect(({} as Record<string, unknown>)['type']).toBeUndefined();
    });

    it('ignores a userId inside a frame: identity comes only from the token', async () => {
      const [alice, mallory] = [await newUser(), await newUser()];
      const room = await store.createRoom({ roomId: randomName('room'), name: 'r', createdBy: alice, members: [alice, mallory] });
      const client = await connect(a, tokens.issue(alice).token);
      client.send({ type: 'send', roomId: room.roomId, clientMsgId: 'spoof-1', text: 'who am I', userId: mallory, senderId: mallory });
      const ack = await client.waitFor('ack', (f) => f.type === 'ack', 5_000);
      expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'spoof-1', message: { senderId: alice, text: 'who am I' } });
      const stored = await store.listMessages(room.roomId, { limit: 10 });
      expect(stored.map((m) => [m.senderId, m.clientMsgId])).toEqual([[alice, 'spoof-1']]);
    });

    it(`refuses a text longer than ${MAX_TEXT_LENGTH} characters and stores nothing; ${MAX_TEXT_LENGTH} is accepted`, async () => {
      const alice = await newUser();
      const room = await store.createRoom({ roomId: randomName('room'), name: 'r', createdBy: alice, members: [alice] });
      const client = await connect(a, tokens.issue(alice).token);
      client.send({ type: 'send', roomId: room.roomId, clientMsgId: 'long', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) });
      const error = await client.waitFor('error', (f) => f.type === 'error', 5_000);
      expect(error).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/text/) });
      client.send({ type: 'send', roomId: room.roomId, clientMsgId: 'just-fits', text: 'y'.repeat(MAX_TEXT_LENGTH) });
      await client.waitFor('ack', (f) => f.type === 'ack', 5_000);
      expect((await store.listMessages(room.roomId, { limit: 10 })).map((m) => m.clientMsgId)).toEqual(['just-fits']);
      expect(client.closeCode).toBeUndefined();
    });

    it('closes with 1009 on a frame over 64 KiB; a frame of exactly 64 KiB is read', async () => {
      const client = await connect(a, tokens.issue(await newUser()).token);
      const frameOf = (bytes: number): string => {
        const shell = '{"type":"ping","pad":""}';
        return `{"type":"ping","pad":"${'p'.repeat(bytes - shell.length)}"}`;
      };
      expect(Buffer.byteLength(frameOf(64 * 1024))).toBe(64 * 1024);
      client.ws.send(frameOf(64 * 1024));
      await client.waitFor('pong to a 64 KiB frame', (f) => f.type === 'pong', 5_000);
      client.ws.send(frameOf(64 * 1024 + 1));
      expect(await client.closed()).toBe(CloseCodes.MESSAGE_TOO_BIG);
    });

    it('negotiates no permessage-deflate even when the client offers it', async () => {
      const token = tokens.issue(await newUser()).token;
      const res = await handshake(wsUrl(a), { authorization: `Bearer ${token}`, 'x-forwarded-for': newIp() }, { perMessageDeflate: true });
      expect(res.opened).toBe(true);
      if (!res.opened) return;
      expect(res.headers['sec-websocket-extensions']).toBeUndefined();
      expect(res.ws.extensions).toBe('');
      res.ws.close();
    });
  });

  describe('token lifetime', () => {
    it('closes the socket with 4001 when its token expires', async () => {
      const shortLived = createTokenService({
        secret: TEST_JWT_SECRET,
        issuer: 'keyed-chat',
        audience: 'keyed-chat-clients',
        ttlSeconds: 2,
      });
      const client = await connect(a, shortLived.issue(await newUser()).token);
      const started = Date.now();
      expect(await client.closed(6_000)).toBe(CloseCodes.TOKEN_INVALID);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('closes every socket of a revoked token with 4001, on every instance (token.revoked broadcast)', async () => {
      const userId = await newUser();
      const issued = tokens.issue(userId);
      const other = tokens.issue(userId);
      const onA = await connect(a, issued.token);
      const onB = await connect(b, issued.token);
      const otherToken = await connect(b, other.token);
      await request(a.http).post('/api/auth/logout').set('Authorization', `Bearer ${issued.token}`).expect(204);
      expect(await onA.closed()).toBe(CloseCodes.TOKEN_INVALID);
      expect(await onB.closed()).toBe(CloseCodes.TOKEN_INVALID);
      // Only that token's sockets: the same user's other token keeps its socket.
      otherToken.send({ type: 'ping' });
      await otherToken.waitFor('pong', (f) => f.type === 'pong', 5_000);
      expect(otherToken.closeCode).toBeUndefined();
      const again = await handshake(wsUrl(a), { authorization: `Bearer ${issued.token}`, 'x-forwarded-for': newIp() });
      expect(statusOf(again)).toBe(401);
    });
  });

  describe('slow-client limit (1 MiB unsent) and long bursts', () => {
    it('sends a resume history of more than 1 MiB, written in one event-loop turn, whole to a client that reads', async () => {
      // The gateway corks a socket for the rest of a turn (turn-writes.ts) and its
      // slow-client check reads bufferedAmount, which counts corked bytes: a resume's
      // history, one synchronous loop, must not look like a client that stopped reading.
      const alice = await newUser();
      const room = await store.createRoom({ roomId: randomName('room'), name: 'r', createdBy: alice, members: [alice] });
      const count = 400;
      const outcomes = await store.appendMessages(
        Array.from({ length: count }, (_, i) => ({
          id: randomUUID(),
          roomId: room.roomId,
          senderId: alice,
          clientMsgId: `bulk-${i}`,
          text: String(i % 10).repeat(MAX_TEXT_LENGTH),
        })),
      );
      expect(outcomes.every((o) => o.ok)).toBe(true);
      const client = await connect(a, tokens.issue(alice).token);
      client.send({ type: 'resume', rooms: { [room.roomId]: 0 } });
      await client.waitFor('the last message of the history', (f) => f.type === 'message' && f.message.seq === count, 30_000);
      const seqs = client.of('message').map((f) => f.message.seq);
      expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(seqs.length * MAX_TEXT_LENGTH).toBeGreaterThan(1024 * 1024);
      expect(client.closeCode).toBeUndefined();
    });
  });
});
