import { z } from 'zod';
import { createOffsetCommitter } from '../../src/adapters/kafka/offset-committer';
import { createPartitionConsumer } from '../../src/adapters/kafka/partition-consumer';
import { createMetrics } from '../../src/observability/metrics';
import { allToOneMember, scratchTopic } from '../support/group-members';
import { silentLogger, waitFor } from '../support/infra';

/**
 * A partition handed over while its output is still being written: the old owner's
 * rebalance began (kafkajs threw at a heartbeat) before that output was written, and the
 * output takes longer than a heartbeat interval. Once it is written, the old owner must
 * commit it before it rejoins, so the partition's next owner starts after it. Real Kafka,
 * real kafkajs: the property depends on kafkajs throwing at every heartbeat while the
 * group rebalances (every one, not only the first), and on the coordinator accepting the
 * old generation's commit until the member rejoins. Before partition-consumer's settle
 * heartbeated best effort after a throw, its second heartbeat threw and skipped the
 * commit, and the next owner handled the records again (the rolling-restart fault test
 * saw 19 sends stored twice).
 */

/** Gives the topic's partition to the member whose clientId is `joiner` once it is there, else to the keeper. */
const joinerTakesAll = allToOneMember('joiner-takes-all', [0], (ids) => ids.find((id) => id.startsWith('joiner-')) ?? ids[0]);

describe('a partition handed over while its output is being written (real Kafka)', () => {
  it('the old owner commits the output written after its rebalance began; the next owner does not handle it again', async () => {
    const { topic, producer, member, close } = await scratchTopic('handover', 1);
    try {
      const produce = (from: number, count: number) =>
        producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ n: from + i }) })) });

      // The keeper: the product's partition consumer, its output held until the test lets it go.
      let release!: () => void;
      const output = new Promise<void>((resolve) => (release = resolve));
      const keeperHandled: number[] = [];
      let heartbeatsRefused = 0;
      const handle = createPartitionConsumer({
        source: 'owner',
        schema: z.object({ n: z.number() }),
        listener: async ({ record }) => {
          keeperHandled.push(record.n);
          return { published: output };
        },
        // Commits only when a batch ends abnormally (the rebalance), not on a timer.
        committer: createOffsetCommitter({ intervalMs: 60_000, logger: silentLogger() }),
        deadLetter: async () => undefined,
        heartbeatIntervalMs: 200,
        metrics: createMetrics({ defaultMetrics: false }),
        logger: silentLogger(),
      });
      const keeper = await member('keeper', { assigner: joinerTakesAll, heartbeatInterval: 300 });
      let keeperJoins = 0;
      keeper.on(keeper.events.GROUP_JOIN, () => void (keeperJoins += 1));
      await keeper.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) =>
          handle({
            ...payload,
            heartbeat: () =>
              payload.heartbeat().catch((error: unknown) => {
                heartbeatsRefused += 1;
                throw error;
              }),
          }),
      });
      await waitFor('the keeper to join', () => keeperJoins === 1);
      await produce(0, 5);
      await waitFor('the keeper to handle the first records', () => keeperHandled.length === 5);

      // Another member joins and is to take the partition. The keeper's output is still
      // being written: it learns of the rebalance at a heartbeat, and keeps heartbeating
      // (refused each time) while it waits for the output.
      const joinerHandled: number[] = [];
      const joiner = await member('joiner', { assigner: joinerTakesAll, heartbeatInterval: 300 });
      // Not awaited: kafkajs's run() returns once the member joined, which this rebalance
      // lets it do only after the keeper rejoined, and that waits for the keeper's output.
      const joinerRunning = joiner.run({
        eachMessage: async ({ message }) => void joinerHandled.push((JSON.parse(String(message.value)) as { n: number }).n),
      });
      await waitFor(
        'the keeper to be refused two heartbeats (the rebalance, then one while its output is written)',
        () => heartbeatsRefused >= 2,
        {
          timeoutMs: 30_000,
        },
      );
      // Now the output is written: the keeper commits it and rejoins; the joiner takes over.
      release();
      await waitFor('the keeper to rejoin', () => keeperJoins >= 2, { timeoutMs: 60_000 });
      await joinerRunning;
      await produce(5, 2);
      await waitFor('the joiner to handle the records after the hand-over', () => joinerHandled.includes(6), { timeoutMs: 30_000 });

      expect(keeperHandled).toEqual([0, 1, 2, 3, 4]);
      // Only what came after the hand-over: 0..4 were written and committed by the keeper.
      expect(joinerHandled).toEqual([5, 6]);
    } finally {
      await close();
    }
  }, 120_000);
});
