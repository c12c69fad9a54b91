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

  describe('with a deadline', () => {
    const deadline = { ms: 40, error: (outcome: string) => new Error(outcome) };

    it('withdraws a call still queued at its deadline (never sent) and answers an in-flight one as unconfirmed', async () => {
      const batches: number[][] = [];
      let release!: () => void;
      const b = createNaturalBatcher<number>({
        deadline,
        send: async (items) => {
          batches.push(items);
          if (batches.length === 1) await new Promise<void>((r) => (release = r));
        },
      });
      const inFlight = b.submit([1]);
      const queued = b.submit([2]);
      await expect(inFlight).rejects.toThrow('unconfirmed');
      await expect(queued).rejects.toThrow('withdrawn');
      release();
      await b.drain();
      // The withdrawn call was never handed to send; the unconfirmed one was.
      expect(batches).toEqual([[1]]);
      await expect(b.submit([3])).resolves.toBeUndefined();
      expect(batches).toEqual([[1], [3]]);
    });

    it('refuses a call at once while the batch in flight has outlived the deadline', async () => {
      let clock = 0;
      let release!: () => void;
      let sends = 0;
      const b = createNaturalBatcher<number>({
        deadline: { ms: 60_000, error: (outcome) => new Error(outcome) },
        now: () => clock,
        send: async () => {
          sends++;
          if (sends === 1) await new Promise<void>((r) => (release = r));
        },
      });
      const first = b.submit([1]);
      clock = 60_001;
      await expect(b.submit([2])).rejects.toThrow('stalled');
      release();
      await first;
      await expect(b.submit([3])).resolves.toBeUndefined();
      expect(sends).toBe(2);
    });

    it('answers a call within its deadline with the batch outcome', async () => {
      const b = createNaturalBatcher<number>({
        deadline,
        send: async () => {
          throw new Error('broker down');
        },
      });
      await expect(b.submit([1])).rejects.toThrow('broker down');
    });
  });
});
