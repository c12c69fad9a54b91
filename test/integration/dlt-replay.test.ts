import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { App } from '../../src/app';
import { Headers } from '../../src/protocol/headers';
import { partitionForKey } from '../../src/domain/partitioner';
import { KAFKA_BROKERS, deleteTopics, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor } from '../support/infra';
import { startRealApp } from '../support/apps';
import { kafkaHarness, type BusHarness } from '../contract/bus-harness';

const ROOT = join(__dirname, '..', '..');
const dlt = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/dlt/dlt.ts'), ...args, '--brokers', KAFKA_BROKERS.join(','), '--idle-ms', '1500'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );

/** A poison record on chat-request lands in the DLT; the dlt command lists and replays it. */
describe('dead-letter topic and the dlt command (real Kafka)', () => {
  const topics = randomTopics(3);
  let app: App;
  let harness: BusHarness;

  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    app = await startRealApp(topics);
    await waitFor('owner joined', () => app.bus.ownerStatus().partitions.length === 3, { timeoutMs: 45_000 });
    harness = await kafkaHarness();
  }, 120_000);

  afterAll(async () => {
    await app.stop();
    await harness.close();
    await deleteTopics(topics.login.split('.')[0]!);
  });

  it('keeps the partition moving, and replays to the original topic once per run', async () => {
    const dltTopic = `${topics.chat}.dlt`;
    await harness.produceRaw(topics.chat, 'mallory', '{"v":1,"type":"chat.send","userId":"mallory"}');
    const [first] = await harness.collect(dltTopic, 1);
    expect(first!.headers[Headers.dltOriginalTopic]).toBe(topics.chat);
    expect(first!.headers[Headers.dltErrorCode]).toBe('VALIDATION');

    const listed = dlt('list', '--topic', dltTopic);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('listed 1 record(s)');
    expect(listed.stdout).toContain('VALIDATION');

    const replayed = dlt('replay', '--topic', dltTopic);
    expect(replayed.status).toBe(0);
    expect(replayed.stdout).toContain('replayed 1 record(s)');
    // Still poison: the owner dead-letters it again, marked as a replay.
    const again = await harness.collect(dltTopic, 2);
    expect(again[1]!.headers[Headers.dltReplayedFrom]).toBe(`${dltTopic}/${partitionForKey('mallory', 3)}@0`);
    expect(again[1]!.value).toBe(first!.value);

    // The replayer remembers its place: the next run replays only the new record.
    const second = dlt('replay', '--topic', dltTopic);
    expect(second.stdout).toContain('replayed 1 record(s)');

    // And the partition was never blocked: the owner committed past both poison records.
    // Commits are periodic (KAFKA_COMMIT_INTERVAL_MS), so wait for the next one, bounded.
    const kafka = new Kafka({ clientId: 't', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        'the owner to commit past both records',
        async () => {
          const offsets = await admin.fetchOffsets({ groupId: topics.ownerGroup, topics: [topics.chat] });
          const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
          return committed >= 2;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
