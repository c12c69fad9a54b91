import { realEnv } from '../support/apps';
import { connectUser, type ClientUser } from '../support/client-harness';
import {
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  trustSessionDirectory,
  waitFor,
} from '../support/infra';
import { startReadyInstances, type InstanceProcess } from '../support/processes';

/**
 * Read state as a client written against api.md v1.1 uses it, with the client library,
 * against three instances (OS processes) on the real 3-broker Kafka cluster: unread counts
 * on every instance, `markRead` over the socket and over REST, the reader's other
 * connection (another instance) hearing `read`, the other members hearing `receipt`, and a
 * read past the end refused.
 */
describe('read state across three instances on Kafka (client library)', () => {
  const topics = randomTopics(12);
  const env = realEnv(topics);
  const instances: InstanceProcess[] = [];
  const users: ClientUser[] = [];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await trustSessionDirectory();
    await startReadyInstances(['read-1', 'read-2', 'read-3'], env, instances);
  }, 180_000);

  afterAll(async () => {
    for (const u of users) u.connection.close();
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  const connect = async (i: number, userId: string, rooms: Record<string, number> = {}): Promise<ClientUser> => {
    const u = await connectUser({ baseUrl: instances[i]!.url, userId, connection: { rooms } });
    users.push(u);
    return u;
  };

  it('counts unread on every instance, and tells the reader’s other connection and the other members', async () => {
    const [aliceId, bobId] = [randomName('alice'), randomName('bob')];
    const alice1 = await connect(0, aliceId);
    const bob = await connect(2, bobId);
    const room = await bob.client.api.createRoom({ name: 'reads', members: [aliceId] });
    const alice2 = await connect(1, aliceId, { [room.roomId]: 0 });
    alice1.connection.trackRoom(room.roomId, 0);
    const heard = { reads1: [] as number[], reads2: [] as number[], receipts: [] as [string, number][] };
    alice1.connection.on('read', ({ seq }) => heard.reads1.push(seq));
    alice2.connection.on('read', ({ seq }) => heard.reads2.push(seq));
    bob.connection.on('receipt', ({ userId, seq }) => heard.receipts.push([userId, seq]));
    const refused: string[] = [];
    alice1.connection.on('problem', (p) => refused.push(p.error.code));

    for (const n of [1, 2, 3, 4]) await bob.connection.send(room.roomId, `message ${n}`);
    await waitFor('alice has all 4', () => alice1.delivered.length === 4 && alice2.delivered.length === 4);
    for (const u of [alice1, alice2, bob]) {
      const mine = (await u.client.api.rooms()).find((r) => r.roomId === room.roomId);
      expect(mine).toMatchObject({ lastSeq: 4, lastReadSeq: 0, unread: 4 });
    }

    // Over the socket (instance 1): the other connection (instance 2) and bob (instance 3) hear it.
    expect(alice1.connection.markRead(room.roomId, 2)).toBe(true);
    await waitFor('read 2 on the other connection', () => heard.reads2.includes(2));
    await waitFor('receipt 2 at bob', () => heard.receipts.some(([u, s]) => u === aliceId && s === 2));
    // Over REST (answered once stored): every instance shows it at once.
    await alice2.client.api.markRead(room.roomId, 3);
    await alice2.client.api.markRead(room.roomId, 1);
    for (const u of [alice1, alice2]) {
      expect((await u.client.api.rooms()).find((r) => r.roomId === room.roomId)).toMatchObject({ lastReadSeq: 3, unread: 1 });
    }
    await waitFor('read 3 on both connections', () => heard.reads1.includes(3) && heard.reads2.includes(3));
    await waitFor('receipt 3 at bob', () => heard.receipts.some(([, s]) => s === 3));

    // Past the end: refused, over REST and over the socket, and the cursor stays.
    await expect(alice1.client.api.markRead(room.roomId, 5)).rejects.toMatchObject({ code: 'READ_PAST_END' });
    alice1.connection.markRead(room.roomId, 9);
    await waitFor('READ_PAST_END over the socket', () => refused.includes('READ_PAST_END'));
    expect((await bob.client.api.rooms()).find((r) => r.roomId === room.roomId)).toMatchObject({ lastReadSeq: 0, unread: 4 });
    expect((await alice1.client.api.rooms()).find((r) => r.roomId === room.roomId)).toMatchObject({ lastReadSeq: 3, unread: 1 });
    // Only forward: the read of 1 sent nothing to anyone.
    expect(heard.reads1).toEqual([3]);
    expect(heard.reads2).toEqual([2, 3]);
    expect(heard.receipts.map(([, s]) => s)).toEqual([2, 3]);
  }, 120_000);
});
