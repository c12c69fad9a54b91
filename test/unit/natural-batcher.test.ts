import { createNaturalBatcher } from '../../src/adapters/kafka/natural-batcher';

describe('natural batcher', () => {
  it('sends at once when idle and batches what queues up meanwhile, in call order', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const b = createNaturalBatcher<number>({
      send: async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    const first = b.submit([1]);
    const rest = [b.submit([2, 3]), b.submit([4]), b.submit([5])];
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('rejects every call of a failed batch, and only those', async () => {
    let calls = 0;
    let release!: () => void;
    const b = createNaturalBatcher<number>({
      send: async () => {
        calls++;
        if (calls === 1) await new Promise<void>((r) => (release = r));
        if (calls === 2) throw new Error('broker down');
      },
    });
    const ok = b.submit([1]);
    const failA = b.submit([2]);
    const failB = b.submit([3]);
    release();
    await expect(ok).resolves.toBeUndefined();
    await expect(failA).rejects.toThrow('broker down');
    await expect(failB).rejects.toThrow('broker down');
    await expect(b.submit([4])).resolves.toBeUndefined();
  });

  it('caps a batch at maxItems without splitting a call', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const b = createNaturalBatcher<number>({
      maxItems: 3,
      send: async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
      },
    });
    const all = [b.submit([0]), b.submit([1, 2]), b.submit([3, 4]), b.submit([5])];
    release();
    await Promise.all(all);
    expect(batches).toEqual([[0], [1, 2], [3, 4, 5]]);
  });
});
