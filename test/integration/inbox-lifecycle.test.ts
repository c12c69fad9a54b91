import { Kafka, logLevel, type Admin } from 'kafkajs';
import { realEnv } from '../support/apps';
import { KAFKA_BROKERS, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { postJson, startReadyInstances, type InstanceProcess } from '../support/processes';

/**
 * Inbox topics have a lifecycle (docs/operations.md, "Inbox topics"): the janitor of the
 * instances still running deletes the inboxes of instances gone (stopped or killed) for
 * longer than INBOX_RETENTION_MS (self-deletion at a graceful stop is opt-in and not used
 * here). Restarted 5 times under new ids, some stopped and some killed, the cluster ends
 * with one inbox per live instance; and the survivor's producer, which wrote replies to
 * the deleted inboxes, still works (kafkajs-deleted-topic-fix.ts).
 */
describe('inbox topics across restarts under new ids', () => {
  const topics = randomTopics(4);
  // The janitor is opt-in: turned on here, with a short retention.
  const env = realEnv(topics, {
    SESSION_TTL_MS: '3000',
    SESSION_REANNOUNCE_MS: '1000',
    INBOX_RETENTION_MS: '3000',
    INBOX_JANITOR_INTERVAL_MS: '1000',
  });
  const running: InstanceProcess[] = [];
  let admin: Admin;
  const inboxes = async (): Promise<string[]> =>
    (await admin.listTopics()).filter((t) => t.startsWith(`${topics.inboxPrefix}.`) && !t.endsWith('.dlt')).sort();

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    admin = new Kafka({ clientId: randomName('inbox-count'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(running.map((i) => i.stop('SIGKILL')));
    await admin?.disconnect();
  });

  it('keeps the number of inbox topics bounded, and the survivor keeps working', async () => {
    // Each instance runs with its name as INSTANCE_ID (startInstance): a new id per restart.
    const [keeper] = await startReadyInstances(['keeper'], env, running);
    const password = 'correct horse battery staple';
    const user = randomName('u');
    expect((await postJson(`${keeper!.url}/api/auth/register`, { userId: user, password })).status).toBe(201);

    const loginWorks = (url: string): Promise<boolean> =>
      waitFor(`a login through ${url}`, async () => (await postJson(`${url}/api/auth/login`, { userId: user, password })).status === 200, {
        timeoutMs: 90_000,
        intervalMs: 500,
      });
    let most = 0;
    let killed = 0;
    let previous: InstanceProcess | undefined;
    for (let k = 0; k < 5; k++) {
      // Rolling: the next instance starts under a new id before the previous one goes.
      const [next] = await startReadyInstances([`i${k}`], env);
      running.push(next!);
      // A login through it: the owner (either instance) replies to its inbox, so the
      // keeper's producer may have written to an inbox that is deleted later.
      // Bounded retry: while an inbox is being deleted the other instances' produces stall
      // for up to tens of seconds (docs/operations.md, "Inbox topics"); what must hold is
      // that they recover (kafkajs-deleted-topic-fix.ts), not that nothing waits.
      await loginWorks(next!.url);
      if (previous !== undefined) {
        const how = k % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
        await previous.stop(how);
        running.splice(running.indexOf(previous), 1);
        if (how === 'SIGKILL') killed++;
      }
      most = Math.max(most, (await inboxes()).length);
      previous = next;
    }

    // Two live instances (keeper and the last), and nothing else once the killed ones' retention has passed.
    const live = running.map((i) => i.name);
    await waitFor('only the live instances have inboxes', async () => (await inboxes()).length === 2, {
      timeoutMs: 90_000,
      intervalMs: 500,
    }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; inboxes: ${(await inboxes()).join(', ')}; live: ${JSON.stringify(live)}`);
    });
    expect(most).toBeLessThanOrEqual(4);
    expect(killed).toBe(2);
    // Exactly the live instances' inboxes are left: the janitors (of whichever instances ran
    // at the time) deleted those of the instances gone, stopped or killed.
    expect(await inboxes()).toEqual(running.map((i) => `${topics.inboxPrefix}.${i.name}`).sort());
    // The keeper still logs in: its producer got past the deleted inboxes.
    await loginWorks(keeper!.url);
  }, 300_000);
});
