import { randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { realEnv } from '../support/apps';
import { logContext, metricValue } from '../support/processes';
import { runLoad, startLoadCluster, type LoadCluster } from '../support/load-harness';
import { kafkaHarness, type BusHarness, type SeenRecord } from '../contract/bus-harness';
import { partitionForKey } from '../../src/domain/partitioner';
import { Headers, dltTopicOf } from '../../src/protocol/headers';
import { ENVELOPE_VERSION } from '../../src/protocol/envelope';

const PARTITIONS = 12;

/**
 * Poison records on chat-request in the middle of live traffic, on the partition of a user
 * who is sending: each lands in chat-request.dlt once, with the dlt-* headers; the
 * partition keeps moving (that user's later messages are acked and delivered); no instance
 * exits and the owner group does not rebalance (no crash and restart loop).
 */
describe('poison records on chat-request under load', () => {
  const topics = randomTopics(PARTITIONS);
  let cluster: LoadCluster;
  let kafka: BusHarness;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    const env = realEnv(topics, { SEND_BURST: '200', SEND_RATE_PER_SEC: '100', WS_MSG_BURST: '1000', WS_MSG_RATE_PER_SEC: '200' });
    cluster = await startLoadCluster({ name: 'poison', instances: 2, users: 8, topics, env });
    kafka = await kafkaHarness();
  }, 180_000);

  afterAll(async () => {
    await kafka?.close();
    await cluster?.stop();
  });

  it('each poison record is dead-lettered once, and the partition keeps moving', async () => {
    const { instances, users, rooms } = cluster;
    const victim = users[0]!;
    const room = rooms.find((r) => r.members.includes(victim))!;
    const partition = partitionForKey(victim, PARTITIONS);
    const envelope = (extra: Record<string, unknown>) =>
      JSON.stringify({ v: ENVELOPE_VERSION, id: `poison-${Math.random()}`, type: 'chat.send', userId: victim, ts: Date.now(), ...extra });
    const send = {
      instanceId: instances[0]!.name,
      connectionId: 'poison-connection',
      roomId: room.roomId,
      clientMsgId: 'poison',
      text: 'poison',
    };
    const poison: Record<string, string> = {
      'not JSON': '{"v":1,"type":"chat.send"',
      'payload of the wrong type': envelope({ payload: 42 }),
      'unknown record type': envelope({ type: 'chat.explode', payload: send }),
      'future envelope version': envelope({ v: ENVELOPE_VERSION + 1, payload: send }),
      'text too long': envelope({ payload: { ...send, text: 'x'.repeat(100_000) } }),
    };
    // Valid, but PostgreSQL cannot store a NUL character: the owner refuses the send
    // (INTERNAL, to the sending connection) and moves on; it is handled, not dead-lettered.
    const unstorable = envelope({ payload: { ...send, clientMsgId: 'poison-nul', text: 'a\u0000b' } });
    const refused = async () =>
      (await Promise.all(instances.map((i) => metricValue(i.url, 'chat_sends_refused_total', { code: 'INTERNAL' })))).reduce(
        (a, b) => a + b,
        0,
      );
    const refusedBefore = await refused();
    const counted = async (outcome: string) =>
      (await Promise.all(instances.map((i) => metricValue(i.url, 'chat_records_consumed_total', { source: 'owner', outcome })))).reduce(
        (a, b) => a + b,
        0,
      );
    const joins = async () =>
      (await Promise.all(instances.map((i) => metricValue(i.url, 'chat_owner_group_joins_total')))).reduce((a, b) => a + b, 0);
    const joinsBefore = await joins();
    const deadLetteredBefore = await counted('dead-lettered');
    let victimAckedAtPoison = 0;
    let victimClient: { acked: Map<string, unknown> } | undefined;

    const counts = await runLoad(cluster, {
      label: 'poison',
      sendIntervalMs: 200,
      fault: async (clients) => {
        victimClient = clients.find((c) => c.userId === victim);
        victimAckedAtPoison = victimClient?.acked.size ?? 0;
        // Keyed by the victim: the same partition as the victim's own sends, in between them.
        for (const value of Object.values(poison)) await kafka.produceRaw(topics.chat, victim, value);
        await kafka.produceRaw(topics.chat, victim, unstorable);
      },
    });

    const dlt: SeenRecord[] = await kafka.collect(dltTopicOf(topics.chat), Object.keys(poison).length);
    // Handled once each: the counters (and the DLT) do not grow past the poison count.
    await waitFor(
      'dead-letter count settles',
      async () => (await counted('dead-lettered')) - deadLetteredBefore >= Object.keys(poison).length,
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const deadLettered = (await counted('dead-lettered')) - deadLetteredBefore;
    const rejoins = (await joins()) - joinsBefore;
    const victimAckedAfter = (victimClient?.acked.size ?? 0) - victimAckedAtPoison;
    const unstorableRefused = (await refused()) - refusedBefore;
    console.log(
      `poison: ${Object.keys(poison).length} poison records on partition ${partition}; dead-lettered ${deadLettered}, on the DLT ${dlt.length} ` +
        `(codes ${dlt.map((r) => r.headers[Headers.dltErrorCode]).join(',')}); unstorable send refused ${unstorableRefused}; victim's messages acked after the poison: ${victimAckedAfter}; owner group rejoins: ${rejoins}`,
    );
    const exited = instances.filter((i) => i.child.exitCode !== null || i.child.signalCode !== null);
    if (exited.length > 0 || rejoins > 0) console.log(logContext(instances, ['dead-letter', 'crashed']));

    expect(exited.map((i) => i.name)).toEqual([]);
    expect(rejoins).toBe(0);
    expect(deadLettered).toBe(Object.keys(poison).length);
    expect(unstorableRefused).toBe(1);
    expect(dlt.map((r) => r.value).sort()).toEqual(Object.values(poison).sort());
    for (const r of dlt) {
      expect(r.key).toBe(victim);
      expect(r.headers).toMatchObject({
        [Headers.dltOriginalTopic]: topics.chat,
        [Headers.dltOriginalPartition]: String(partition),
        [Headers.dltErrorCode]: 'VALIDATION',
        [Headers.dltAttempts]: '1',
      });
      expect(r.headers[Headers.dltOriginalOffset]).toMatch(/^\d+$/);
      expect(Number.isNaN(Date.parse(r.headers[Headers.dltFailedAt] ?? ''))).toBe(false);
    }
    expect(new Set(dlt.map((r) => r.headers[Headers.dltOriginalOffset])).size).toBe(dlt.length);
    // The partition kept moving: the victim's later sends were acked (and, below, delivered).
    expect(victimAckedAfter).toBeGreaterThan(10);
    expect(counts.acked).toBeGreaterThan(0);
    expect(counts.lost).toBe(0);
    expect(counts.duplicates).toBe(0);
  }, 240_000);
});
