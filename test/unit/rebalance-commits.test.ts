import pino from 'pino';
import { createOffsetCommitter, type CommitOffsets } from '../../src/adapters/kafka/offset-committer';
import { createRebalanceCommits } from '../../src/adapters/kafka/rebalance-commits';

/**
 * The commits a group member makes around rebalances (rebalance-commits.ts), over a real
 * OffsetCommitter whose commit function is a fake: what is committed when, what is sought
 * at a join, and that a failing commit never throws out of a consumer event.
 */
const logger = pino({ level: 'silent' });

function setup({ fail = false } = {}) {
  const commits: CommitOffsets[] = [];
  const committer = createOffsetCommitter({ intervalMs: 60_000, logger });
  committer.use(async (offsets) => {
    if (fail) throw new Error('not the coordinator');
    commits.push(offsets);
  });
  const sought: { topic: string; partition: number; offset: string }[] = [];
  const consumer = { seek: (s: { topic: string; partition: number; offset: string }) => void sought.push(s) };
  return { committer, commits, sought, consumer, rebalance: createRebalanceCommits({ committer, logger }) };
}
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('rebalance commits', () => {
  it('commits what was handled when a rebalance starts, without waiting for the interval', async () => {
    const s = setup();
    s.committer.handled('chat', 0, '5');
    s.rebalance.rebalancing();
    await settled();
    expect(s.commits).toEqual([{ topics: [{ topic: 'chat', partitions: [{ partition: 0, offset: '5' }] }] }]);
  });

  it('at a join, seeks the kept partitions past what was handled and commits them again; with nothing pending, neither', async () => {
    const s = setup();
    s.rebalance.joined(s.consumer);
    await settled();
    expect(s.sought).toEqual([]);
    expect(s.commits).toEqual([]);
    s.committer.handled('chat', 2, '9');
    s.rebalance.joined(s.consumer);
    await settled();
    expect(s.sought).toEqual([{ topic: 'chat', partition: 2, offset: '9' }]);
    expect(s.commits).toHaveLength(1);
  });

  it('at leaving, closes the committer (batches from now on commit before they return) and commits what is pending', async () => {
    const s = setup();
    s.committer.handled('login', 1, '3');
    await s.rebalance.leaving();
    expect(s.commits).toHaveLength(1);
    expect(s.committer.flushAtBatchEnd()).toBe(true);
  });

  it('never throws: a failed commit is logged and its offsets stay for the next one', async () => {
    const s = setup({ fail: true });
    s.committer.handled('chat', 0, '5');
    s.rebalance.rebalancing();
    s.rebalance.crashed();
    await settled();
    await expect(s.rebalance.leaving()).resolves.toBeUndefined();
    expect(s.committer.pending()).toEqual([{ topic: 'chat', partition: 0, offset: '5' }]);
  });
});
