import { partitionForKey } from '../../src/domain/partitioner';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { realEnv } from '../support/apps';
import { getJson, logContext, metricValue, postJson, startReadyInstances, type InstanceProcess } from '../support/processes';

interface Ready {
  owner?: { partitions: number[] };
}

/**
 * Two instances as separate OS processes on the real 3-broker cluster: keyed ownership,
 * co-partitioning, directed replies, and hand-over after SIGKILL.
 */
describe('keyed ownership across two instance processes', () => {
  const topics = randomTopics(12);
  const env = realEnv(topics);
  const instances: InstanceProcess[] = [];
  const USERS = 50;
  const password = 'correct horse battery';
  const users = Array.from({ length: USERS }, (_, i) => `${randomName('owner')}-${i}`);

  const owners = async (): Promise<Map<string, number[]>> => {
    const out = new Map<string, number[]>();
    for (const i of instances) {
      if (i.child.exitCode !== null || i.child.signalCode !== null) continue;
      const { body } = await getJson<Ready>(`${i.url}/readyz`);
      out.set(i.name, body.owner?.partitions ?? []);
    }
    return out;
  };
  const ownerOf = (assignment: Map<string, number[]>, partition: number): string | undefined =>
    [...assignment].find(([, ps]) => ps.includes(partition))?.[0];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await startReadyInstances(['inst-a', 'inst-b'], env, instances);
    await waitFor(
      'the two instances to split all 12 partitions',
      async () => {
        const a = await owners();
        const all = [...a.values()].flat().sort((x, y) => x - y);
        return all.length === 12 && new Set(all).size === 12 && [...a.values()].every((ps) => ps.length === 6);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, 180_000);

  afterAll(async () => {
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  it("handles every login at the owner of the user's partition, co-partitioned, replying only to the asker", async () => {
    const [a, b] = instances as [InstanceProcess, InstanceProcess];
    const assignment = await owners();
    for (const u of users) expect((await postJson(`${a.url}/api/auth/register`, { userId: u, password })).status).toBe(201);

    const sentVia = new Map<string, number>([
      [a.name, 0],
      [b.name, 0],
    ]);
    const results = await Promise.all(
      users.map(async (u) => {
        const via = Math.random() < 0.5 ? a : b;
        sentVia.set(via.name, sentVia.get(via.name)! + 1);
        const res = await postJson<{ token?: string }>(`${via.url}/api/auth/login`, { userId: u, password });
        return { u, via: via.name, status: res.status };
      }),
    );
    const failed = results.filter((r) => r.status !== 200);
    if (failed.length > 0)
      throw new Error(
        `logins failed: ${JSON.stringify(failed)}\n${logContext(
          instances,
          failed.map((f) => f.u),
        )}`,
      );

    // From the instances' own logs: who handled each login, on which partition.
    const handled = instances.flatMap((i) =>
      i.logs
        .filter((l) => l['event'] === 'login.handled' && users.includes(String(l['userId'])))
        .map((l) => ({ instance: i.name, userId: String(l['userId']), partition: Number(l['partition']) })),
    );
    expect(handled).toHaveLength(USERS);
    for (const h of handled) {
      expect(h.partition).toBe(partitionForKey(h.userId, 12));
      expect(h.instance).toBe(ownerOf(assignment, h.partition));
    }
    // Co-partitioning, from each instance's own assignment log: login p and chat p together.
    for (const i of instances) {
      const joins = i.logs.filter((l) => l['event'] === 'partitions.assigned');
      expect(joins.length).toBeGreaterThan(0);
      for (const j of joins) {
        const byTopic = j['byTopic'] as Record<string, number[]>;
        expect([...(byTopic[topics.login] ?? [])].sort()).toEqual([...(byTopic[topics.chat] ?? [])].sort());
      }
    }
    // Each instance consumed exactly the replies to the logins it sent, and no stray one.
    for (const i of [a, b]) {
      expect(await metricValue(i.url, 'chat_records_consumed_total', { source: 'inbox', type: 'login.reply', outcome: 'handled' })).toBe(
        sentVia.get(i.name),
      );
      expect(await metricValue(i.url, 'chat_replies_unmatched_total')).toBe(0);
    }
    console.log(
      `logins: ${USERS}; sent via ${a.name}=${sentVia.get(a.name)}, ${b.name}=${sentVia.get(b.name)}; handled by owner: ${instances.map((i) => `${i.name}=${handled.filter((h) => h.instance === i.name).length}`).join(', ')}`,
    );
  });

  it("after SIGKILL of one instance, the survivor owns every partition within the session timeout and serves the dead one's users", async () => {
    const [a, b] = instances as [InstanceProcess, InstanceProcess];
    const before = await owners();
    const deadUsers = users.filter((u) => ownerOf(before, partitionForKey(u, 12)) === b.name);
    expect(deadUsers.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await b.stop('SIGKILL');
    await waitFor('the survivor to own all 12 partitions', async () => (await owners()).get(a.name)?.length === 12, {
      timeoutMs: 6_000 + 15_000,
      intervalMs: 200,
    });
    const tookMs = Date.now() - killedAt;
    for (const u of deadUsers) {
      const res = await postJson(`${a.url}/api/auth/login`, { userId: u, password });
      expect(res.status).toBe(200);
    }
    console.log(
      `SIGKILL → survivor owns all partitions after ${tookMs} ms (session timeout 6000 ms); ${deadUsers.length} moved users logged in`,
    );
  });
});
