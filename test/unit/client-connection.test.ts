import {
  createChatConnection,
  type ChatConnectionOptions,
  type ConnectionProblem,
  type StateChange,
} from '../../client/src/chat-connection';
import { ChatError } from '../../client/src/chat-error';
import type { Message } from '../../client/src/protocol';
import { fakeSockets } from '../support/fake-web-socket';

/**
 * The connection's reconnect, resume, dedupe and retry logic against a fake socket, under
 * jest's fake timers (Date included), so every delay is exact and no test sleeps.
 */
const msg = (
  seq: number,
  {
    roomId = 'r1',
    senderId = 'bob',
    clientMsgId = `c-${roomId}-${seq}`,
  }: { roomId?: string; senderId?: string; clientMsgId?: string } = {},
): Message => ({
  id: `${roomId}-${seq}`,
  roomId,
  seq,
  senderId,
  text: `m${seq}`,
  ts: '2026-01-01T00:00:00.000Z',
  clientMsgId,
});

/** Lets pending promise callbacks run (the connection awaits `token()` before opening). */
const flush = async (): Promise<void> => {
  await jest.advanceTimersByTimeAsync(0);
};

function setup(options: Partial<ChatConnectionOptions> = {}) {
  const fake = fakeSockets();
  let n = 0;
  let token = 'tok-1';
  const connection = createChatConnection({
    url: 'http://chat.test',
    token: () => token,
    webSocket: fake.factory,
    backoff: { minDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 },
    pingIntervalMs: 0,
    newClientMsgId: () => `cm-${++n}`,
    onListenerError: (error) => {
      throw error;
    },
    ...options,
  });
  const delivered: Message[] = [];
  const states: StateChange[] = [];
  const problems: ConnectionProblem[] = [];
  connection.on('message', (m) => delivered.push(m));
  connection.on('state', (s) => states.push(s));
  connection.on('problem', (p) => problems.push(p));
  return { connection, fake, delivered, states, problems, setToken: (t: string) => (token = t) };
}

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

describe('client connection: resume', () => {
  it('resumes every room from its highest contiguous seq, then delivers the rest once and in order', async () => {
    const { connection, fake, delivered } = setup({ rooms: { r1: 0, r2: 5 } });
    connection.connect();
    await flush();
    fake.last().accept();
    expect(fake.last().sentOf('resume')).toEqual([{ type: 'resume', rooms: { r1: 0, r2: 5 } }]);

    const sent = connection.send('r1', 'mine');
    await flush();
    fake.last().push({ type: 'message', message: msg(1) });
    fake.last().push({ type: 'message', message: msg(2) });
    // Our own message is acked as seq 4 while seq 3 (someone else's) is still in flight.
    fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(4, { senderId: 'alice', clientMsgId: 'cm-1' }) });
    await expect(sent).resolves.toMatchObject({ seq: 4 });
    expect(delivered.map((m) => m.seq)).toEqual([1, 2]);

    fake.last().drop(1006);
    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    // 2, not 4: resuming after 4 would lose 3 for good.
    expect(fake.last().sentOf('resume')).toEqual([{ type: 'resume', rooms: { r1: 2, r2: 5 } }]);
    for (const seq of [3, 4, 5]) fake.last().push({ type: 'message', message: msg(seq) });
    fake.last().push({ type: 'message', message: msg(4) });
    expect(delivered.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(connection.resumePoints()).toEqual({ r1: 5, r2: 5 });
  });

  it('delivers a message seen both live and in a resume once', async () => {
    const { connection, fake, delivered } = setup({ rooms: { r1: 0 } });
    connection.connect();
    await flush();
    fake.last().accept();
    for (const seq of [1, 2, 1, 2, 3, 3]) fake.last().push({ type: 'message', message: msg(seq) });
    expect(delivered.map((m) => m.id)).toEqual(['r1-1', 'r1-2', 'r1-3']);
  });

  it('asks again for a gap that outlasts gapTimeoutMs, from the floor', async () => {
    const { connection, fake, delivered } = setup({ rooms: { r1: 0 }, gapTimeoutMs: 1_000 });
    connection.connect();
    await flush();
    fake.last().accept();
    fake.last().push({ type: 'message', message: msg(1) });
    fake.last().push({ type: 'message', message: msg(3) });
    await jest.advanceTimersByTimeAsync(900);
    expect(fake.last().sentOf('resume')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(700);
    expect(fake.last().sentOf('resume')[1]).toEqual({ type: 'resume', rooms: { r1: 1 } });
    fake.last().push({ type: 'message', message: msg(2) });
    fake.last().push({ type: 'message', message: msg(3) });
    expect(delivered.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('follows a room it is added to from seq 0, resuming it at once, and drops a repeated room change', async () => {
    const { connection, fake } = setup();
    const changes: string[] = [];
    connection.on('room', (c) => changes.push(c.id));
    connection.connect();
    await flush();
    fake.last().accept('alice');
    const change = {
      type: 'room',
      id: 'ch-1',
      event: 'member.added',
      room: { roomId: 'r9', name: 'nine', members: ['bob', 'alice'] },
      by: 'bob',
      member: 'alice',
    } as const;
    fake.last().push(change);
    fake.last().push(change);
    expect(changes).toEqual(['ch-1']);
    await flush();
    expect(fake.last().sentOf('resume')).toContainEqual({ type: 'resume', rooms: { r9: 0 } });
  });
});

describe('client connection: sends', () => {
  it('re-sends unacked sends with the same clientMsgId after a reconnect; each promise settles once', async () => {
    const { connection, fake } = setup({ rooms: { r1: 0 } });
    connection.connect();
    await flush();
    // Sent before the first ready: they go out when it comes.
    const a = connection.send('r1', 'a');
    const b = connection.send('r1', 'b');
    fake.last().accept();
    expect(
      fake
        .last()
        .sentOf('send')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-1', 'cm-2']);
    fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(1, { senderId: 'alice', clientMsgId: 'cm-1' }) });
    const c = connection.send('r1', 'c');
    await flush();
    fake.last().drop(1006); // the network drops: b and c unacked

    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    const resent = fake.last().sentOf('send');
    expect(resent.map((f) => [f.clientMsgId, f.text])).toEqual([
      ['cm-2', 'b'],
      ['cm-3', 'c'],
    ]);
    // The server stored b before the drop: its ack comes again, twice even.
    fake.last().push({ type: 'ack', clientMsgId: 'cm-2', message: msg(2, { senderId: 'alice', clientMsgId: 'cm-2' }) });
    fake.last().push({ type: 'ack', clientMsgId: 'cm-2', message: msg(2, { senderId: 'alice', clientMsgId: 'cm-2' }) });
    fake.last().push({ type: 'ack', clientMsgId: 'cm-3', message: msg(3, { senderId: 'alice', clientMsgId: 'cm-3' }) });
    await expect(Promise.all([a, b, c])).resolves.toMatchObject([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
    expect(connection.pendingSends()).toBe(0);
  });

  it('retries a send refused as retriable, and rejects one refused for good', async () => {
    const { connection, fake } = setup({ sendRetryDelayMs: 500 });
    connection.connect();
    await flush();
    fake.last().accept();
    const ok = connection.send('r1', 'x');
    const bad = expect(connection.send('r1', 'y')).rejects.toMatchObject({ code: 'NOT_A_MEMBER', retriable: false });
    await flush();
    fake.last().push({ type: 'error', code: 'RATE_LIMITED', message: 'sending too fast', ref: 'cm-1' });
    fake.last().push({ type: 'error', code: 'NOT_A_MEMBER', message: 'no', ref: 'cm-2' });
    await bad;
    expect(fake.last().sentOf('send')).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(500);
    expect(
      fake
        .last()
        .sentOf('send')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-1', 'cm-2', 'cm-1']);
    fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(1, { clientMsgId: 'cm-1' }) });
    await expect(ok).resolves.toMatchObject({ seq: 1 });
  });

  it('refuses too long a text or frame at once, without sending', async () => {
    const { connection, fake } = setup({ maxFrameBytes: 200 });
    connection.connect();
    await flush();
    fake.last().accept();
    await expect(connection.send('r1', 'x'.repeat(4_001))).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(connection.send('r1', 'é'.repeat(90))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    expect(fake.last().sentOf('send')).toHaveLength(0);
  });

  it('paces frames under the server limit: a burst, then framesPerSecond', async () => {
    const { connection, fake } = setup({ framesPerSecond: 10, frameBurst: 5 });
    connection.connect();
    await flush();
    fake.last().accept();
    for (let i = 0; i < 25; i++) void connection.send('r1', `m${i}`).catch(() => undefined);
    await flush();
    expect(fake.last().sentOf('send')).toHaveLength(5);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.last().sentOf('send').length).toBeGreaterThanOrEqual(14);
    expect(fake.last().sentOf('send').length).toBeLessThanOrEqual(16);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.last().sentOf('send')).toHaveLength(25);
    connection.close();
  });

  it('close() rejects what is unacked with CLOSED', async () => {
    const { connection, fake, states } = setup();
    connection.connect();
    await flush();
    fake.last().accept();
    const p = connection.send('r1', 'x').catch((e: unknown) => e);
    connection.close();
    const error = await p;
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: 'CLOSED' });
    expect(fake.last().closedByClient?.code).toBe(1000);
    expect(states[states.length - 1]?.state).toBe('closed');
  });
});

describe('client connection: closes and backoff', () => {
  it('backs off exponentially with jitter up to the cap, and starts small again after ready', async () => {
    const random = jest.fn(() => 0.5);
    const { connection, fake, states } = setup({ backoff: { minDelayMs: 100, maxDelayMs: 1_000, random } });
    connection.connect();
    await flush();
    for (let i = 0; i < 6; i++) {
      fake.last().drop(1006);
      const delay = states[states.length - 1]!.delayMs!;
      await jest.advanceTimersByTimeAsync(delay);
    }
    expect(states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(fake.sockets).toHaveLength(7);
    fake.last().accept();
    fake.last().drop(1001);
    expect(states[states.length - 1]).toMatchObject({ state: 'reconnecting', delayMs: 50, closeCode: 1001 });
    random.mockReturnValue(0);
    await jest.advanceTimersByTimeAsync(50);
    fake.last().drop(1011);
    expect(states[states.length - 1]).toMatchObject({ delayMs: 0 });
  });

  it('on 4001 refreshes the token and reconnects at once with the new one', async () => {
    let setTok: (t: string) => void = () => undefined;
    const refreshToken = jest.fn(async () => {
      setTok('tok-2');
      return true;
    });
    const s = setup({ refreshToken, rooms: { r1: 0 } });
    setTok = s.setToken;
    s.connection.connect();
    await flush();
    s.fake.last().accept();
    const p = s.connection.send('r1', 'x');
    await flush();
    s.fake.last().drop(4001, 'token expired');
    await flush();
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(s.fake.sockets).toHaveLength(2);
    expect(s.fake.last().token()).toBe('tok-2');
    s.fake.last().accept();
    expect(
      s.fake
        .last()
        .sentOf('send')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-1']);
    s.fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(1, { clientMsgId: 'cm-1' }) });
    await expect(p).resolves.toMatchObject({ seq: 1 });
  });

  it('on 4001 without a way to refresh, closes as auth-lost and rejects pending sends', async () => {
    const { connection, fake, problems, states } = setup({ refreshToken: async () => false });
    connection.connect();
    await flush();
    fake.last().accept();
    const p = expect(connection.send('r1', 'x')).rejects.toMatchObject({ code: 'AUTH_LOST' });
    fake.last().drop(4001);
    await flush();
    await p;
    expect(problems.map((x) => x.kind)).toEqual(['auth-lost']);
    expect(states[states.length - 1]?.state).toBe('closed');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake.sockets).toHaveLength(1);
  });

  it('a socket refused before it opened asks verifyToken; a bad token is refreshed like a 4001', async () => {
    const verifyToken = jest.fn(async () => false);
    const refreshToken = jest.fn(async () => true);
    const { connection, fake } = setup({ verifyToken, refreshToken });
    connection.connect();
    await flush();
    fake.last().drop(1006);
    await flush();
    expect(verifyToken).toHaveBeenCalledTimes(1);
    expect(refreshToken).toHaveBeenCalledTimes(1);
    expect(fake.sockets).toHaveLength(2);
  });

  it('backs off at least policyDelayMs after 4008 and reports it', async () => {
    const { connection, fake, problems, states } = setup({ policyDelayMs: 5_000 });
    connection.connect();
    await flush();
    fake.last().accept();
    fake.last().drop(4008, 'too many frames');
    expect(problems[0]).toMatchObject({ kind: 'policy' });
    expect(problems[0]?.error.message).toContain('too many frames');
    expect(states[states.length - 1]).toMatchObject({ state: 'reconnecting', delayMs: 5_000, closeCode: 4008 });
    await jest.advanceTimersByTimeAsync(4_999);
    expect(fake.sockets).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fake.sockets).toHaveLength(2);
  });

  it('on 1009 rejects the largest unacked send (re-sending it would loop), refuses that size from then on, and keeps the others', async () => {
    const { connection, fake, problems } = setup({ rooms: { r1: 0 } });
    connection.connect();
    await flush();
    fake.last().accept();
    const a = connection.send('r1', 'a');
    const big = expect(connection.send('r1', 'b'.repeat(3_000))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    const c = connection.send('r1', 'c');
    await flush();
    fake.last().drop(1009);
    await big;
    expect(problems.map((p) => p.kind)).toEqual(['frame-too-large']);
    await expect(connection.send('r1', 'd'.repeat(3_000))).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    expect(
      fake
        .last()
        .sentOf('send')
        .map((f) => f.clientMsgId),
    ).toEqual(['cm-1', 'cm-3']);
    fake.last().push({ type: 'ack', clientMsgId: 'cm-1', message: msg(1, { clientMsgId: 'cm-1' }) });
    fake.last().push({ type: 'ack', clientMsgId: 'cm-3', message: msg(2, { clientMsgId: 'cm-3' }) });
    await expect(Promise.all([a, c])).resolves.toMatchObject([{ seq: 1 }, { seq: 2 }]);
  });

  it('drops a socket that sends no ready, and one that goes silent (pings unanswered)', async () => {
    const { connection, fake } = setup({ readyTimeoutMs: 3_000, pingIntervalMs: 1_000 });
    connection.connect();
    await flush();
    fake.last().open();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(fake.sockets[0]!.closedByClient?.code).toBe(4000);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.sockets).toHaveLength(2);
    fake.last().accept();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.last().sentOf('ping')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(fake.sockets[1]!.closedByClient?.code).toBe(4000);
  });
});

describe('client connection: read state', () => {
  it('sends `read` frames only when open, and emits `read` and `receipt` frames as events', async () => {
    const { connection, fake, problems } = setup({ rooms: { r1: 0 } });
    const reads: unknown[] = [];
    const receipts: unknown[] = [];
    connection.on('read', (r) => reads.push(r));
    connection.on('receipt', (r) => receipts.push(r));
    expect(connection.markRead('r1', 3)).toBe(false);
    connection.connect();
    await flush();
    fake.last().accept('alice');
    expect(connection.markRead('r1', 3)).toBe(true);
    await flush();
    expect(fake.last().sentOf('read')).toEqual([{ type: 'read', roomId: 'r1', seq: 3 }]);
    fake.last().push({ type: 'read', roomId: 'r1', seq: 4 });
    fake.last().push({ type: 'receipt', roomId: 'r1', userId: 'bob', seq: 2 });
    expect(reads).toEqual([{ roomId: 'r1', seq: 4 }]);
    expect(receipts).toEqual([{ roomId: 'r1', userId: 'bob', seq: 2 }]);
    // A read past the end is refused by the server: a `refused` problem, the room still followed.
    fake.last().push({ type: 'error', code: 'READ_PAST_END', message: 'seq 9 is past the last message', ref: 'r1' });
    expect(problems).toEqual([{ kind: 'refused', error: expect.objectContaining({ code: 'READ_PAST_END' }) }]);
    expect(connection.resumePoints()).toEqual({ r1: 0 });
  });
});

describe('client connection: instances and raw frames', () => {
  it('asks a url function before every socket, so reconnects can move to another instance', async () => {
    const urls = ['http://one.test', 'http://two.test', 'http://three.test'];
    let next = 0;
    const { connection, fake } = setup({ url: () => urls[next % urls.length]! });
    connection.on('state', (s) => {
      if (s.state === 'reconnecting') next++;
    });
    connection.connect();
    await flush();
    fake.last().accept();
    fake.last().drop(1006);
    await jest.advanceTimersByTimeAsync(1_000);
    // Refused before it opened: one more step round the list.
    fake.last().drop(1006);
    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    expect(fake.sockets.map((s) => new URL(s.url).host)).toEqual(['one.test', 'two.test', 'three.test']);
    expect(fake.sockets.map((s) => s.token())).toEqual(['tok-1', 'tok-1', 'tok-1']);
    expect(connection.state()).toBe('open');
  });

  it('a url function that throws is a failed attempt: backed off and asked again', async () => {
    let calls = 0;
    const { connection, fake, states } = setup({
      url: () => {
        calls++;
        if (calls === 1) throw new Error('no instance known yet');
        return 'http://chat.test';
      },
    });
    connection.connect();
    await flush();
    expect(fake.sockets).toHaveLength(0);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting' });
    await jest.advanceTimersByTimeAsync(1_000);
    fake.last().accept();
    expect(connection.state()).toBe('open');
  });

  it('emits every server frame as received, repeats included, while `message` fires once', async () => {
    const { connection, fake, delivered } = setup({ rooms: { r1: 0 } });
    const frames: string[] = [];
    connection.on('frame', (f) => frames.push(f.type === 'message' ? `message ${f.message.id}` : f.type));
    connection.connect();
    await flush();
    fake.last().accept();
    for (const seq of [1, 2, 1]) fake.last().push({ type: 'message', message: msg(seq) });
    expect(frames).toEqual(['ready', 'message r1-1', 'message r1-2', 'message r1-1']);
    expect(delivered.map((m) => m.id)).toEqual(['r1-1', 'r1-2']);
  });

  it('a `frame` listener that closes the connection stops that frame from being handled', async () => {
    const { connection, fake, delivered } = setup({ rooms: { r1: 0 } });
    connection.on('frame', (f) => {
      if (f.type === 'message' && f.message.seq === 2) connection.close();
    });
    connection.connect();
    await flush();
    fake.last().accept();
    for (const seq of [1, 2]) fake.last().push({ type: 'message', message: msg(seq) });
    expect(delivered.map((m) => m.seq)).toEqual([1]);
    expect(connection.state()).toBe('closed');
  });
});
