import { createOffsetCommitter } from '../../src/adapters/kafka/offset-committer';
import { resumePastHandled } from '../../src/adapters/kafka/resume-past-handled';
import { allToOneMember, scratchTopic } from '../support/group-members';
import { silentLogger, waitFor } from '../support/infra';

/**
 * A member that keeps its partitions through a rebalance, after its commit lost the race
 * with the rejoin (here: every commit is refused, as the coordinator refuses one sent for
 * the old generation), reads them again from the last commit -- unless it seeks past what
 * it handled when it joins (resume-past-handled.ts). Real Kafka, real kafkajs: the
 * property depends on when kafkajs emits GROUP_JOIN and how it resolves offsets after it.
 * The same run without the seek is the control: it must see records handled twice.
 */

/** Gives every partition to the member whose clientId is `keeper`, so it keeps them across the rejoin. */
const keeperTakesAll = allToOneMember('keeper-takes-all', [0, 1], (ids) => ids.find((id) => id.startsWith('keeper-')));

describe('resuming past handled offsets after a rejoin (real Kafka)', () => {
  /** Handles 20 records on a kept member, makes another member join, then 4 more records; returns how often each was handled. */
  const run = async ({
    seek,
  }: {
    seek: boolean;
  }): Promise<{ handled: Map<string, number>; sought: number; before: number; inLog: number }> => {
    const { topic, admin, producer, member, close } = await scratchTopic('resume', 2);
    try {
      const produce = (from: number, count: number) =>
        producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: count }, (_, i) => ({ partition: (from + i) % 2, value: String(from + i) })),
        });

      const handled = new Map<string, number>();
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger: silentLogger() });
      let joins = 0;
      let sought = 0;
      const keeper = await member('keeper', { assigner: keeperTakesAll, heartbeatInterval: 500 });
      keeper.on(keeper.events.GROUP_JOIN, () => {
        joins += 1;
        if (seek) sought += resumePastHandled({ consumer: keeper, committer, logger: silentLogger() });
      });
      await keeper.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          // Every commit is refused: what the coordinator answers a commit that lost the race.
          committer.use(() => Promise.reject(new Error('refused: the group has moved to a new generation')));
          for (const m of batch.messages) {
            const key = `${batch.partition}@${m.offset}`;
            handled.set(key, (handled.get(key) ?? 0) + 1);
            resolveOffset(m.offset);
            committer.handled(topic, batch.partition, (BigInt(m.offset) + 1n).toString());
          }
          await heartbeat();
        },
      });
      await waitFor('the keeper to join', () => joins === 1);
      // What the log holds is counted, not assumed: on a busy machine a produce retried
      // after a lost answer has once put a partition's batch in the log twice.
      const inLogNow = async (): Promise<number> => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
      await produce(0, 20);
      const before = await inLogNow();
      await waitFor('the records before the rejoin handled', () => handled.size >= before);

      // Another member joins: the keeper rejoins (a new generation) and keeps both partitions.
      const joiner = await member('joiner', { assigner: keeperTakesAll, heartbeatInterval: 500 });
      await joiner.run({ eachMessage: async () => undefined });
      await waitFor('the keeper to rejoin', () => joins >= 2, { timeoutMs: 60_000 });

      // Records after the rejoin: once they are handled, whatever was read again was too.
      await produce(20, 4);
      const inLog = await inLogNow();
      await waitFor('every record in the log handled', () => handled.size >= inLog);
      return { handled, sought, before, inLog };
    } finally {
      await close();
    }
  };

  it('with the seek at GROUP_JOIN: both kept partitions are sought, and no record is handled twice', async () => {
    const { handled, sought, inLog } = await run({ seek: true });
    expect(sought).toBe(2);
    expect(handled.size).toBe(inLog);
    expect([...handled].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);

  it('the control, without it: kafkajs reads the kept partitions again from the last commit (every record before the rejoin handled twice)', async () => {
    const { handled, before, inLog } = await run({ seek: false });
    expect(handled.size).toBe(inLog);
    expect([...handled].filter(([, n]) => n > 1)).toHaveLength(before);
  }, 120_000);
});
