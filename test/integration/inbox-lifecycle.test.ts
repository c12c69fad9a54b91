import { Kafka, logLevel, type Admin } from 'kafkajs';
import { realEnv } from '../support/apps';
import { KAFKA_BROKERS, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { metricValue, postJson, startReadyInstances, type InstanceProcess } from '../support/processes';

/**
 * Inbox topics have a lifecycle (docs/operations.md, "Inbox topics"): an instance stopped
 * gracefully deletes its own inbox, and the janitor of the instances still running deletes
 * the inboxes of instances killed, once gone for longer than INBOX_RETENTION_MS; each
 * deletion is announced first (inbox-notices.ts). Restarted 5 times under new ids, some
 * stopped and some killed, the cluster ends with one inbox per live instance; and the
 * keeper, whose producer wrote replies to the deleted inboxes, never had a produce fail:
 * the deletions touched nobody's batches (before the announcements they stalled them for
 * tens of seconds).
 */
describe('inbox topics across restarts under new ids', () => {
  const topics = randomTopics(4);
  // Both on by default; the janitor runs every second here, with a short retention.
  const env = realEnv(topics, {
    SESSION_TTL_MS: '3000',
    SESSION_REANNOUNCE_MS: '1000',
    // Longer than an instance takes to start on a loaded machine: from its first sighting
    // (at start, src/app.ts) to its first announcement it is not live for the janitors.
    INBOX_RETENTION_MS: '15000',
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
      // keeper's producer may have written to an inbox that is deleted later. (Bounded
      // retry: a new instance's inbox reaches the brokers one by one.)
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

    // Exactly the live instances' inboxes are left (keeper and the last): the janitors (of
    // whichever instances ran at the time) deleted those of the instances killed, and the
    // stopped ones deleted their own. Three listings in a row agree: a listing asks one
    // broker, and a deletion reaches the brokers one by one.
    const expected = running.map((i) => `${topics.inboxPrefix}.${i.name}`).sort();
    let agreeing = 0;
    let last: string[] = [];
    await waitFor(
      'only the live instances have inboxes',
      async () => {
        last = await inboxes();
        agreeing = JSON.stringify(last) === JSON.stringify(expected) ? agreeing + 1 : 0;
        return agreeing >= 3;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; inboxes: ${last.join(', ')}; expected: ${expected.join(', ')}`);
    });
    expect(most).toBeLessThanOrEqual(5);
    expect(killed).toBe(2);
    // The keeper still logs in, and none of its produces ever failed: every deletion was
    // announced before it landed, so no batch carried a record for a deleted inbox.
    await loginWorks(keeper!.url);
    expect(await metricValue(keeper!.url, 'chat_produce_failures_total')).toBe(0);
  }, 300_000);
});
