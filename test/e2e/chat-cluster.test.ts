import type { Message } from '../../src/protocol/message';
import {
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  waitFor,
  trustSessionDirectory,
} from '../support/infra';
import { realEnv } from '../support/apps';
import { logContext, metricValue, postJson, startReadyInstances, type InstanceProcess } from '../support/processes';
import { TestClient } from '../support/ws-client';

interface Room {
  roomId: string;
  members: string[];
}

/**
 * Three instances as separate OS processes on the real 3-broker cluster, with real `ws`
 * clients spread over them: ordered, exactly-once-by-id delivery, acks, resume on another
 * instance, directed relays, and presence.
 */
describe('chat across three instances', () => {
  const topics = randomTopics(12);
  const env = realEnv(topics, { SEND_BURST: '40' });
  const instances: InstanceProcess[] = [];
  const password = 'correct horse battery';
  const USERS = 30;
  const PER_USER = 20;
  const users = Array.from({ length: USERS }, (_, i) => `${randomName('chat')}-${i}`);
  const tokens = new Map<string, string>();
  const rooms: Room[] = [];
  const clients = new Map<string, TestClient>();
  const home = (i: number): InstanceProcess => instances[i % 3]!;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await trustSessionDirectory();
    await startReadyInstances(['chat-1', 'chat-2', 'chat-3'], env, instances);
    for (const [i, u] of users.entries()) {
      expect((await postJson(`${home(i).url}/api/auth/register`, { userId: u, password })).status).toBe(201);
      const res = await postJson<{ token: string }>(`${home(i + 1).url}/api/auth/login`, { userId: u, password });
      if (res.status !== 200) throw new Error(`login of ${u} via ${home(i + 1).name}: ${res.status}\n${logContext(instances, [u])}`);
      tokens.set(u, res.body.token);
    }
    // 10 rooms of 3 to 10 members; together they cover every user.
    for (let k = 0; k < 10; k++) {
      const size = 3 + (k % 8);
      const members = Array.from({ length: size }, (_, j) => users[(k * 3 + j) % USERS]!);
      const res = await postJson<{ roomId: string; members: string[] }>(
        `${home(k).url}/api/rooms`,
        { name: `room ${k}`, members: members.slice(1) },
        tokens.get(members[0]!),
      );
      expect(res.status).toBe(201);
      rooms.push({ roomId: res.body.roomId, members: res.body.members });
    }
  }, 180_000);

  afterAll(async () => {
    for (const c of clients.values()) await c.close();
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  const roomsOf = (u: string): Room[] => rooms.filter((r) => r.members.includes(u));

  it('delivers every message to every member exactly once, in one order, with one stored message per clientMsgId', async () => {
    for (const [i, u] of users.entries()) {
      const c = await TestClient.connect(home(i).url, tokens.get(u)!, u);
      clients.set(u, c);
      c.send({ type: 'resume', rooms: Object.fromEntries(roomsOf(u).map((r) => [r.roomId, 0])) });
    }
    const started = Date.now();
    // Everyone sends as fast as it can; the last clientMsgId of each user is sent twice.
    for (const [i, u] of users.entries()) {
      const mine = roomsOf(u);
      for (let n = 0; n < PER_USER; n++)
        clients
          .get(u)!
          .send({ type: 'send', roomId: mine[(n + i) % mine.length]!.roomId, clientMsgId: `${u}-${n}`, text: `message ${n} from ${u}` });
      clients.get(u)!.send({
        type: 'send',
        roomId: mine[(PER_USER - 1 + i) % mine.length]!.roomId,
        clientMsgId: `${u}-${PER_USER - 1}`,
        text: `message ${PER_USER - 1} from ${u}`,
      });
    }
    await waitFor('every send acked', () => users.every((u) => clients.get(u)!.of('ack').length >= PER_USER + 1), {
      timeoutMs: 90_000,
      intervalMs: 100,
    });

    // One stored message per clientMsgId; a retried clientMsgId is acked again with the same message.
    const stored = new Map<string, Message>();
    for (const u of users) {
      const acks = clients.get(u)!.of('ack');
      const byClientId = new Map<string, Set<string>>();
      for (const a of acks) {
        byClientId.set(a.clientMsgId, (byClientId.get(a.clientMsgId) ?? new Set()).add(a.message.id));
        stored.set(a.message.id, a.message);
      }
      expect(byClientId.size).toBe(PER_USER);
      for (const ids of byClientId.values()) expect(ids.size).toBe(1);
      expect(clients.get(u)!.of('error')).toEqual([]);
    }
    expect(stored.size).toBe(USERS * PER_USER);

    // Each room's seq is 1..N with no gap.
    for (const r of rooms) {
      const seqs = [...stored.values()]
        .filter((m) => m.roomId === r.roomId)
        .map((m) => m.seq)
        .sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }

    // Every member gets every message of its rooms once (its own through the ack), in seq order.
    const expectedFor = (u: string, r: Room) =>
      [...stored.values()]
        .filter((m) => m.roomId === r.roomId && m.senderId !== u)
        .map((m) => m.id)
        .sort();
    await waitFor(
      'every delivery',
      () =>
        users.every((u) =>
          roomsOf(u).every(
            (r) =>
              clients
                .get(u)!
                .of('message')
                .filter((f) => f.message.roomId === r.roomId).length >= expectedFor(u, r).length,
          ),
        ),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const elapsed = Date.now() - started;
    let deliveries = 0;
    for (const u of users) {
      for (const r of roomsOf(u)) {
        const got = clients
          .get(u)!
          .of('message')
          .filter((f) => f.message.roomId === r.roomId)
          .map((f) => f.message);
        deliveries += got.length;
        expect(got.map((m) => m.id).sort()).toEqual(expectedFor(u, r));
        const seqs = got.map((m) => m.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    }
    // Directed relays: no instance was sent a frame for a connection it does not hold.
    for (const i of instances) expect(await metricValue(i.url, 'chat_relay_misses_total')).toBe(0);
    // Two hops: every fan-out went straight to the gateways, none through the members' owners.
    const fanOuts = async (path: string) =>
      (await Promise.all(instances.map((i) => metricValue(i.url, 'chat_fanouts_total', { path })))).reduce((a, b) => a + b, 0);
    expect(await fanOuts('direct')).toBeGreaterThan(0);
    expect(await fanOuts('via-owner')).toBe(0);
    console.log(
      `chat: ${USERS} users on 3 instances, ${rooms.length} rooms, ${stored.size} messages, ${deliveries} deliveries, all acked and delivered in ${elapsed} ms`,
    );
  }, 180_000);

  it('an instance holding no socket of a user consumes no delivery for that user', async () => {
    // Each instance's message frames are exactly those for the users whose socket it holds.
    for (const [n, inst] of instances.entries()) {
      const local = users.filter((_, i) => i % 3 === n);
      const expected = local.reduce((sum, u) => sum + clients.get(u)!.of('message').length, 0);
      expect(await metricValue(inst.url, 'chat_frames_sent_total', { type: 'message' })).toBe(expected);
    }
  });

  it('a client that reconnects to another instance and resumes gets exactly what it missed, then live traffic', async () => {
    const room = rooms.find((r) => r.members.length >= 4)!;
    const [sender, , reader] = room.members as [string, string, string];
    const readerIndex = users.indexOf(reader);
    const old = clients.get(reader)!;
    const lastSeq = Math.max(
      0,
      ...old
        .of('message')
        .filter((f) => f.message.roomId === room.roomId)
        .map((f) => f.message.seq),
      ...old
        .of('ack')
        .filter((f) => f.message.roomId === room.roomId)
        .map((f) => f.message.seq),
    );
    await old.close();
    const s = clients.get(sender)!;
    const acksBefore = s.of('ack').length;
    for (let n = 0; n < 5; n++) s.send({ type: 'send', roomId: room.roomId, clientMsgId: `missed-${n}`, text: `missed ${n}` });
    await waitFor('missed messages acked', () => s.of('ack').length >= acksBefore + 5);
    const missed = s
      .of('ack')
      .slice(acksBefore)
      .map((a) => a.message);

    const other = instances[(readerIndex + 1) % 3]!;
    const fresh = await TestClient.connect(other.url, tokens.get(reader)!, `${reader}-again`);
    clients.set(reader, fresh);
    fresh.send({ type: 'resume', rooms: { [room.roomId]: lastSeq } });
    for (let n = 0; n < 3; n++) s.send({ type: 'send', roomId: room.roomId, clientMsgId: `live-${n}`, text: `live ${n}` });
    await waitFor('live acked', () => s.of('ack').length >= acksBefore + 8);
    const all = s
      .of('ack')
      .slice(acksBefore)
      .map((a) => a.message);
    await waitFor(
      'resumed and live messages',
      () => fresh.of('message').filter((f) => f.message.roomId === room.roomId).length >= all.length,
      { timeoutMs: 30_000 },
    );
    const got = fresh
      .of('message')
      .filter((f) => f.message.roomId === room.roomId)
      .map((f) => f.message);
    expect(missed).toHaveLength(5);
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: got.length }, (_, i) => lastSeq + 1 + i));
    expect(got.map((m) => m.id)).toEqual(all.map((m) => m.id));
  }, 90_000);

  it('presence: online when the first socket opens, offline when the last closes, not per socket', async () => {
    const room = rooms[0]!;
    const [observer, subject] = room.members as [string, string];
    const watch = clients.get(observer)!;
    const subjectIndex = users.indexOf(subject);
    await clients.get(subject)!.close();
    await waitFor('subject offline', () => watch.of('presence').some((p) => p.userId === subject && !p.online));
    const count = () => watch.of('presence').filter((p) => p.userId === subject).length;
    const before = count();
    const first = await TestClient.connect(home(subjectIndex).url, tokens.get(subject)!, 'first');
    const second = await TestClient.connect(home(subjectIndex + 1).url, tokens.get(subject)!, 'second');
    await waitFor('online once', () => count() >= before + 1);
    await first.close();
    // A probe message through the same path proves the observer is caught up before counting.
    const probeId = `probe-${Date.now()}`;
    watch.send({ type: 'send', roomId: room.roomId, clientMsgId: probeId, text: 'probe' });
    await second.waitFor('probe', (f) => f.type === 'message' && f.message.clientMsgId === probeId);
    expect(count()).toBe(before + 1);
    await second.close();
    await waitFor('offline once', () => count() >= before + 2);
    const events = watch
      .of('presence')
      .filter((p) => p.userId === subject)
      .slice(before)
      .map((p) => p.online);
    expect(events).toEqual([true, false]);
  }, 90_000);
});
