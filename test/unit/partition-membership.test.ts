import { createPartitionMembership } from '../../src/adapters/kafka/partition-membership';

describe('partition membership', () => {
  it('starts idle, owning nothing', () => {
    const m = createPartitionMembership();
    expect(m.state).toBe('idle');
    expect(m.partitions()).toEqual([]);
    expect(m.owns(0)).toBe(false);
  });

  it('first join: nothing held; the assignment makes every partition assigned', () => {
    const m = createPartitionMembership();
    expect(m.join()).toEqual([]);
    expect(m.state).toBe('joining');
    expect(m.assign([3, 1, 2])).toEqual({ partitions: [1, 2, 3], revoked: [], assigned: [1, 2, 3] });
    expect(m.state).toBe('joined');
    expect(m.owns(2)).toBe(true);
  });

  it('rejoin: owned partitions become held and are handled no more until the assignment', () => {
    const m = createPartitionMembership();
    m.join();
    m.assign([0, 1, 2, 3]);
    expect(m.join()).toEqual([0, 1, 2, 3]);
    expect(m.state).toBe('joining');
    expect(m.partitions()).toEqual([]);
    for (const p of [0, 1, 2, 3]) expect(m.owns(p)).toBe(false);
    // Kept: 1, 2; revoked: 0, 3; new: 5.
    expect(m.assign([2, 1, 5])).toEqual({ partitions: [1, 2, 5], revoked: [0, 3], assigned: [5] });
    expect(m.owns(0)).toBe(false);
    expect(m.owns(5)).toBe(true);
  });

  it('two joins before an assignment keep every held partition', () => {
    const m = createPartitionMembership();
    m.join();
    m.assign([0, 1]);
    m.join();
    expect(m.join()).toEqual([0, 1]);
    expect(m.assign([1])).toEqual({ partitions: [1], revoked: [0], assigned: [] });
  });

  it('a rebalance notice changes the state, not the partitions', () => {
    const m = createPartitionMembership();
    m.join();
    m.assign([4]);
    m.rebalancing();
    expect(m.state).toBe('joining');
    expect(m.owns(4)).toBe(true);
  });

  it('stop revokes everything owned or held', () => {
    const m = createPartitionMembership();
    m.join();
    m.assign([2, 0]);
    m.join();
    expect(m.stop()).toEqual([0, 2]);
    expect(m.state).toBe('stopped');
    expect(m.partitions()).toEqual([]);
  });

  it('prepared partitions wait for the preparation until it settles, either way', async () => {
    const m = createPartitionMembership();
    let fail!: (e: Error) => void;
    const ready = new Promise<void>((_, reject) => (fail = reject));
    ready.catch(() => undefined);
    m.prepare([1, 2], ready);
    expect(m.preparation(1)).toBe(ready);
    expect(m.preparation(3)).toBeUndefined();
    fail(new Error('load failed'));
    await ready.catch(() => undefined);
    await Promise.resolve();
    expect(m.preparation(1)).toBeUndefined();
    expect(m.preparation(2)).toBeUndefined();
  });

  it('a newer preparation of a partition is not cleared by an older one settling', async () => {
    const m = createPartitionMembership();
    let first!: () => void;
    const older = new Promise<void>((resolve) => (first = resolve));
    const newer = new Promise<void>(() => undefined);
    m.prepare([1], older);
    m.prepare([1], newer);
    first();
    await older;
    await Promise.resolve();
    expect(m.preparation(1)).toBe(newer);
  });
});
