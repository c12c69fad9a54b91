import { realEnv } from '../support/apps';
import { expectNothingLostOrDoubled, runCutBurst } from '../support/client-cut-burst';
import { connectUser, type ClientUser } from '../support/client-harness';
import { hostPort, startCutProxy, type CutProxy } from '../support/cut-proxy';
import {
  deleteTopics,
  randomName,
  randomTopics,
  requireKafka,
  requirePostgres,
  requireRedis,
  trustSessionDirectory,
} from '../support/infra';
import { startReadyInstances, type InstanceProcess } from '../support/processes';

/**
 * The client library against three instances (OS processes) on the real 3-broker Kafka
 * cluster, behind a round-robin proxy whose network is cut twice mid-burst: after a cut a
 * client lands on another instance and resumes there. Nothing lost, nothing doubled.
 */
describe('client library: network cut mid-burst (3 instances on Kafka)', () => {
  const topics = randomTopics(12);
  const env = realEnv(topics, { SEND_BURST: '40' });
  const instances: InstanceProcess[] = [];
  let proxy: CutProxy;
  const users: ClientUser[] = [];

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    await trustSessionDirectory();
    await startReadyInstances(['client-1', 'client-2', 'client-3'], env, instances);
    proxy = await startCutProxy({ targets: instances.map((i) => hostPort(i.url)) });
  }, 180_000);

  afterAll(async () => {
    for (const u of users) u.connection.close();
    await proxy?.close();
    for (const i of instances) await i.stop('SIGKILL');
    await deleteTopics(topics.login.split('.')[0]!);
  });

  it('every send resolves once, every member sees every message once, in order', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `${randomName('cc')}-${i}`);
    const setup = await Promise.all(names.map((userId, i) => connectUser({ baseUrl: instances[i % 3]!.url, userId })));
    const room = await setup[0]!.client.api.createRoom({ name: 'cut', members: names.slice(1) });
    for (const u of setup) u.connection.close();
    for (const userId of names) {
      users.push(
        await connectUser({
          baseUrl: proxy.url,
          userId,
          connection: { rooms: { [room.roomId]: 0 }, backoff: { minDelayMs: 100, maxDelayMs: 1_000 } },
        }),
      );
    }
    // The set-up clients reach an instance directly: the history is read through one of them.
    const report = await runCutBurst({ users, roomId: room.roomId, perUser: 30, proxy, history: setup[0]!.client.api });
    expectNothingLostOrDoubled(report, users);
  }, 180_000);
});
