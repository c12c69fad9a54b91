import { partitionForKey } from '../../src/domain/partitioner';
import type { ServerFrame } from '../../src/protocol/frames';
import {
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  trustSessionDirectory,
} from '../support/infra';
import { realEnv } from '../support/apps';
import { getJson, logContext, metricValue, postJson, startReadyInstances, type InstanceProcess } from '../support/processes';
import { TestClient } from '../support/ws-client';

/**
 * Presence that tells the truth when an instance dies (docs/architecture.md, "Presence that
 * tells the truth"), on the real 3-broker cluster with instances as OS processes: users
 * connected only to instance X are announced offline to a co-member on another instance
 * within the session TTL (plus a bounded margin) after X is SIGKILLed, with no other event
 * of theirs. Two such users: one whose owner is X too (its partition moves to another
 * owner, which loads the sessions from the mirror and expires them), one owned elsewhere.
 * And the snapshot after `ready` lists them online while they are connected.
 */
describe('presence after instance loss', () => {
  const TTL_MS = 12_000;
  // TTL > KAFKA_SESSION_TIMEOUT_MS (6 s in realEnv) + a rebalance: the new owner of X's
  // partitions loads their sessions from the mirror before they expire there.
  const topics = randomTopics(12);
  const env = realEnv(topics, { SESSION_TTL_MS: String(TTL_MS), SESSION_REANNOUNCE_MS: '2000' });
  const instances: InstanceProcess[] = [];
  const clients: TestClient[] = [];
  const password = 'correct horse battery';

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await trustSessionDirectory();
    await startReadyInstances(['presence-x', 'presence-y', 'presence-z'], env, instances);
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  /** A new user whose request partition `wanted` accepts. */
  const userOn = (prefix: string, wanted: (partition: number) => boolean): string => {
    for (;;) {
      const u = randomName(prefix);
      if (wanted(partitionForKey(u, topics.partitions))) return u;
    }
  };
  const tokenOf = async (via: InstanceProcess, userId: string): Promise<string> => {
    expect((await postJson(`${via.url}/api/auth/register`, { userId, password })).status).toBe(201);
    const res = await postJson<{ token: string }>(`${via.url}/api/auth/login`, { userId, password });
    expect(res.status).toBe(200);
    return res.body.token;
  };
  const presenceOf = (userId: string, online: boolean) => (f: ServerFrame) =>
    f.type === 'presence' && f.userId === userId && f.online === online;

  it('a co-member on another instance sees them online in its snapshot, then offline within the TTL after SIGKILL', async () => {
    const [x, y, z] = instances as [InstanceProcess, InstanceProcess, InstanceProcess];
    const owned = new Set((await getJson<{ owner: { partitions: number[] } }>(`${x.url}/readyz`)).body.owner.partitions);
    expect(owned.size).toBeGreaterThan(0);
    expect(owned.size).toBeLessThan(topics.partitions);
    const aOwnedByX = userOn('pres-ax', (p) => owned.has(p));
    const aOwnedElsewhere = userOn('pres-ay', (p) => !owned.has(p));
    const b = randomName('pres-b');
    const tokens = new Map<string, string>();
    for (const u of [aOwnedByX, aOwnedElsewhere, b]) tokens.set(u, await tokenOf(y, u));
    const room = await postJson<{ roomId: string }>(
      `${z.url}/api/rooms`,
      { name: 'presence', members: [aOwnedByX, aOwnedElsewhere] },
      tokens.get(b),
    );
    expect(room.status).toBe(201);

    // Both A users on X only; then B on Z: its snapshot follows its ready and lists them online.
    for (const u of [aOwnedByX, aOwnedElsewhere]) clients.push(await TestClient.connect(x.url, tokens.get(u)!, u));
    const observer = await TestClient.connect(z.url, tokens.get(b)!, b);
    clients.push(observer);
    const snapshot = await observer.waitFor('presence.snapshot', (f) => f.type === 'presence.snapshot', 15_000);
    const types = observer.frames.map((f) => f.type);
    expect(types.indexOf('presence.snapshot')).toBeGreaterThan(types.indexOf('ready'));
    expect(snapshot).toEqual({
      type: 'presence.snapshot',
      users: [aOwnedByX, aOwnedElsewhere].sort().map((userId) => ({ userId, online: true })),
    });
    const expiredBefore =
      (await metricValue(y.url, 'chat_presence_expired_total')) + (await metricValue(z.url, 'chat_presence_expired_total'));

    const killedAt = Date.now();
    await x.stop('SIGKILL');
    const margin = 8_000; // the expiry timer's look, a rebalance's tail, two Kafka hops, a loaded machine
    const seen = new Map<string, number>();
    for (const u of [aOwnedByX, aOwnedElsewhere]) {
      const left = Math.max(0, killedAt + TTL_MS + margin - Date.now());
      try {
        await observer.waitFor(`${u} offline`, presenceOf(u, false), left);
      } catch (error) {
        console.log(logContext([y, z], [u, 'presence', 'assigned', 'revoked']));
        throw error;
      }
      seen.set(u, Date.now() - killedAt);
    }
    // No other event of theirs happened: the owners' expiry timers did it.
    const expiredAfter =
      (await metricValue(y.url, 'chat_presence_expired_total')) + (await metricValue(z.url, 'chat_presence_expired_total'));
    expect(expiredAfter - expiredBefore).toBeGreaterThanOrEqual(2);
    for (const ms of seen.values()) expect(ms).toBeLessThanOrEqual(TTL_MS + margin);
    // Not a false alarm: nothing said offline before the TTL less one re-announce period could pass.
    for (const ms of seen.values()) expect(ms).toBeGreaterThanOrEqual(TTL_MS - 2_000 - 500);
  }, 120_000);
});
