import { randomTopics, requireKafka, requirePostgres, requireRedis } from '../support/infra';
import { realEnv } from '../support/apps';
import { logContext, metricValue } from '../support/processes';
import { runLoad, startLoadCluster, waitReady, type LoadCluster } from '../support/load-harness';

/**
 * A rolling restart under load, as docs/operations.md's runbook does it: for each of the 3
 * instances in turn, start a replacement (a new instance id, as a new container or pod
 * would have), wait until it is ready, then SIGTERM the old one and wait for it to exit.
 * Clients chat throughout. Counted: acked, delivered, lost (must be 0), reconnects, and the
 * duplicates a resume re-fetched that clients dropped by id.
 */
/**
 * Two timing profiles: the tests' fast one (heartbeat 500 ms, so a fetch waits at most
 * 500 ms), and the production defaults (heartbeat 3 s, fetch wait 3 s, session timeout 30 s,
 * rebalance timeout 60 s: docs/architecture.md, "Idle cost"), where a member notices a
 * rebalance only at its next heartbeat and a stop waits for the fetch in flight.
 */
const PROFILES: [string, Record<string, string>][] = [
  ["the tests' Kafka timings (heartbeat 500 ms)", {}],
  [
    'the production Kafka defaults (heartbeat and fetch wait 3 s)',
    {
      KAFKA_SESSION_TIMEOUT_MS: '30000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '3000',
      KAFKA_REBALANCE_TIMEOUT_MS: '60000',
      KAFKA_FETCH_MAX_WAIT_MS: '3000',
    },
  ],
];

describe.each(PROFILES)('rolling restart under load, %s', (_profile, timings) => {
  const topics = randomTopics(12);
  // A drain on a loaded CI machine can outlast the default 10 s grace (then exit code 1).
  const env = realEnv(topics, {
    SEND_BURST: '200',
    SEND_RATE_PER_SEC: '100',
    WS_MSG_BURST: '1000',
    WS_MSG_RATE_PER_SEC: '200',
    SHUTDOWN_GRACE_MS: '30000',
    ...timings,
  });
  let cluster: LoadCluster;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    cluster = await startLoadCluster({ name: 'rolling', instances: 3, users: 12, topics, env });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('restarts every instance in turn with nothing lost', async () => {
    const originals = [...cluster.instances];
    const exitCodes: (number | null)[] = [];
    const counts = await runLoad(cluster, {
      label: 'rolling',
      sendIntervalMs: 250,
      ackTimeoutMs: 90_000,
      checkStored: true,
      fault: async () => {
        for (const [k, old] of originals.entries()) {
          const replacement = await cluster.addInstance(`rolling-new-${k + 1}`);
          await waitReady(replacement);
          exitCodes.push(await old.stop('SIGTERM'));
        }
      },
    });
    if (exitCodes.some((c) => c !== 0)) console.log(logContext(originals, ['shutdown', 'stop', 'drain', 'error']));
    expect(exitCodes).toEqual([0, 0, 0]);
    expect(counts.acked).toBeGreaterThan(0);
    expect(counts.lost).toBe(0);
    expect(counts.ackedNotStored).toBe(0);
    // Every client was on an instance that went away at some point.
    expect(counts.reconnects).toBeGreaterThanOrEqual(cluster.users.length);
    // Graceful hand-overs commit before leaving: no send record was handled twice by an owner.
    const live = cluster.instances.filter((i) => !originals.includes(i));
    const redelivered = await Promise.all(live.map((i) => metricValue(i.url, 'chat_messages_stored_total', { outcome: 'redelivered' })));
    if (redelivered.some((n) => n > 0))
      console.log(logContext([...originals, ...live], ['commit', 'rebalanc', 'crash', 'partitions.assigned']));
    expect(redelivered.reduce((a, b) => a + b, 0)).toBe(0);
    // Each original deleted its inbox as it left, announced first (inbox-notices.ts): no
    // produce of the instances that stayed failed on a record for a deleted inbox.
    const produceFailures = await Promise.all(live.map((i) => metricValue(i.url, 'chat_produce_failures_total')));
    expect(produceFailures).toEqual(live.map(() => 0));
  }, 300_000);
});
