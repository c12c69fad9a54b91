import pino from 'pino';
import { z } from 'zod';
import { UnavailableError } from '../../src/domain/errors';
import type { Handled, InboundRecord } from '../../src/ports/bus';
import { createMetrics } from '../../src/observability/metrics';
import { createPartitionConsumer, type PartitionBatch } from '../../src/adapters/kafka/partition-consumer';
import { createOffsetCommitter, type OffsetCommitter } from '../../src/adapters/kafka/offset-committer';

/**
 * The per-batch pending/settle/commit logic against a fake kafkajs batch: what is
 * resolved (kafkajs's fetch position) and committed, and when.
 */

const logger = pino({ level: 'silent' });
const schema = z.object({ n: z.number() });
type Rec = z.infer<typeof schema>;
const backoff = { initialMs: 1, maxMs: 1, factor: 1 };

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A fake kafkajs batch of `offsets` on t[3] whose values are {"n": offset} (or `values[offset]`). */
function fakeBatch(
  offsets: readonly number[],
  { values = {}, heartbeat }: { values?: Record<number, string>; heartbeat?: (call: number) => void } = {},
) {
  const resolved: string[] = [];
  const commits: string[] = [];
  let running = true;
  let heartbeats = 0;
  const payload: PartitionBatch = {
    batch: {
      topic: 't',
      partition: 3,
      highWatermark: String(Math.max(...offsets) + 1),
      messages: offsets.map((o) => ({
        offset: String(o),
        key: Buffer.from('k'),
        value: Buffer.from(values[o] ?? JSON.stringify({ n: o })),
        headers: {},
      })),
    },
    heartbeat: async () => {
      heartbeats++;
      heartbeat?.(heartbeats);
    },
    isRunning: () => running,
    resolveOffset: (offset) => void resolved.push(offset),
    commitOffsetsIfNecessary: async (offsets) => {
      for (const t of offsets?.topics ?? []) for (const p of t.partitions) commits.push(`${t.topic}[${p.partition}]@${p.offset}`);
    },
  };
  return { payload, resolved, commits, stop: () => void (running = false), heartbeats: () => heartbeats };
}

function consumer(
  listener: (r: InboundRecord<Rec>) => Promise<Handled | void>,
  options: {
    owns?: (p: number) => boolean;
    preparation?: (p: number) => Promise<void> | undefined;
    maxPending?: number;
    deadLetter?: jest.Mock;
    committer?: OffsetCommitter;
  } = {},
) {
  return createPartitionConsumer({
    source: 'owner',
    schema,
    listener,
    // Interval 0: every batch commits before it returns, so commits are easy to observe.
    committer: options.committer ?? createOffsetCommitter({ intervalMs: 0, logger }),
    deadLetter: options.deadLetter ?? jest.fn(async () => undefined),
    heartbeatIntervalMs: 5,
    backoff,
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    ...(options.owns === undefined ? {} : { owns: options.owns }),
    ...(options.preparation === undefined ? {} : { preparation: options.preparation }),
    ...(options.maxPending === undefined ? {} : { maxPending: options.maxPending }),
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Waits, bounded by wall time (a timer-driven commit needs its interval to pass, however loaded the machine). */
async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) {
    await tick();
    if (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (!check()) throw new Error(`never: ${what}`);
}

describe('partition consumer', () => {
  it('handles in order and resolves offsets oldest first, only once their output is written', async () => {
    const outputs = [deferred(), deferred(), deferred()];
    const seen: number[] = [];
    const f = fakeBatch([0, 1, 2]);
    const done = consumer(async (r) => {
      seen.push(r.record.n);
      return { published: outputs[r.record.n]!.promise };
    })(f.payload);
    await until('all three handled', () => seen.length === 3);
    // Later output written first: nothing may be resolved past the unwritten head.
    outputs[2]!.resolve();
    outputs[1]!.resolve();
    await tick();
    expect(f.resolved).toEqual([]);
    outputs[0]!.resolve();
    await done;
    expect(seen).toEqual([0, 1, 2]);
    expect(f.resolved).toEqual(['0', '1', '2']);
    expect(f.commits).toEqual(['t[3]@3']);
  });

  it('stops the batch at output that was not written and leaves its offset unresolved', async () => {
    const seen: number[] = [];
    const f = fakeBatch([0, 1, 2, 3]);
    await consumer(
      async (r) => {
        seen.push(r.record.n);
        return { published: r.record.n === 1 ? Promise.reject(new UnavailableError('brokers gone')) : Promise.resolve() };
      },
      { maxPending: 1 },
    )(f.payload);
    // With at most one record pending, the failure is seen as soon as record 1 is handled,
    // and no record after it is handled in this batch.
    expect(seen).toEqual([0, 1]);
    expect(f.resolved).toEqual(['0']);
    expect(f.commits).toEqual(['t[3]@1']);
  });

  it('commits what was written when a heartbeat throws (a rebalance began)', async () => {
    const rebalance = new Error('The group is rebalancing');
    const f = fakeBatch([0, 1, 2], {
      heartbeat: (call) => {
        if (call === 2) throw rebalance;
      },
    });
    const seen: number[] = [];
    await expect(consumer(async (r) => void seen.push(r.record.n))(f.payload)).rejects.toBe(rebalance);
    expect(seen).toEqual([0, 1]);
    expect(f.resolved).toEqual(['0', '1']);
    expect(f.commits).toEqual(['t[3]@2']);
  });

  it('after a heartbeat threw, waits for output still being written without failing on further heartbeats, then commits it', async () => {
    // kafkajs: once the group rebalances, every heartbeat throws until the member rejoins.
    const rebalance = new Error('The group is rebalancing');
    const f = fakeBatch([0, 1, 2], {
      heartbeat: (call) => {
        if (call >= 2) throw rebalance;
      },
    });
    const slow = deferred();
    const seen: number[] = [];
    const done = consumer(async (r) => {
      seen.push(r.record.n);
      return { published: r.record.n === 1 ? slow.promise : Promise.resolve() };
    })(f.payload);
    const outcome = done.then(
      () => 'returned',
      (error: unknown) => error,
    );
    await until('record 1 handled', () => seen.length === 2);
    // Longer than the heartbeat interval (5 ms): the wait for record 1's output heartbeats,
    // and those heartbeats throw too.
    await until('a heartbeat while waiting', () => f.heartbeats() >= 3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(f.commits).toEqual([]);
    slow.resolve();
    expect(await outcome).toBe(rebalance);
    expect(seen).toEqual([0, 1]);
    expect(f.resolved).toEqual(['0', '1']);
    // Both were written: the next owner must not handle them again.
    expect(f.commits).toEqual(['t[3]@2']);
  });

  it('on stop, waits for output still being written, then commits it', async () => {
    const output = deferred();
    const seen: number[] = [];
    const f = fakeBatch([0, 1]);
    const done = consumer(async (r) => {
      seen.push(r.record.n);
      return { published: output.promise };
    })(f.payload);
    await until('record 0 handled', () => seen.length === 1);
    f.stop();
    // Longer than the heartbeat interval: settle keeps waiting, without heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(f.commits).toEqual([]);
    output.resolve();
    await done;
    expect(seen).toEqual([0]);
    expect(f.resolved).toEqual(['0']);
    expect(f.commits).toEqual(['t[3]@1']);
  });

  it('handles nothing of a partition it does not own, and commits nothing', async () => {
    const listener = jest.fn(async () => undefined);
    const f = fakeBatch([0, 1]);
    await consumer(listener, { owns: () => false })(f.payload);
    expect(listener).not.toHaveBeenCalled();
    expect(f.resolved).toEqual([]);
    expect(f.commits).toEqual([]);
  });

  it('holds records of a partition being prepared until the preparation settles, heartbeating', async () => {
    const ready = deferred();
    const seen: number[] = [];
    const f = fakeBatch([0]);
    const done = consumer(async (r) => void seen.push(r.record.n), { preparation: () => ready.promise })(f.payload);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([]);
    expect(f.heartbeats()).toBeGreaterThan(0);
    ready.resolve();
    await done;
    expect(seen).toEqual([0]);
    expect(f.commits).toEqual(['t[3]@1']);
  });

  it('gives up on a partition revoked while it was being prepared, handling nothing', async () => {
    let owned = true;
    const listener = jest.fn(async () => undefined);
    const f = fakeBatch([0]);
    const done = consumer(listener, { owns: () => owned, preparation: () => new Promise<void>(() => undefined) })(f.payload);
    await tick();
    owned = false;
    await done;
    expect(listener).not.toHaveBeenCalled();
    expect(f.commits).toEqual([]);
  });

  it('dead-letters a poison record and moves past it', async () => {
    const deadLetter = jest.fn(async () => undefined);
    const seen: number[] = [];
    const f = fakeBatch([0, 1, 2], { values: { 1: 'not json' } });
    await consumer(async (r) => void seen.push(r.record.n), { deadLetter })(f.payload);
    expect(seen).toEqual([0, 2]);
    expect(deadLetter).toHaveBeenCalledTimes(1);
    expect(f.resolved).toEqual(['0', '1', '2']);
    expect(f.commits).toEqual(['t[3]@3']);
  });

  describe('with periodic commits', () => {
    it('a batch that ends normally returns before its commit, which follows within the interval', async () => {
      const committer = createOffsetCommitter({ intervalMs: 40, logger });
      const f = fakeBatch([0, 1]);
      await consumer(async () => undefined, { committer })(f.payload);
      expect(f.resolved).toEqual(['0', '1']);
      expect(f.commits).toEqual([]);
      await until('committed by the timer', () => f.commits.length > 0);
      expect(f.commits).toEqual(['t[3]@2']);
    });

    it('a batch whose heartbeat throws (rebalance) commits before it rethrows, interval or not', async () => {
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger });
      const rebalance = new Error('The group is rebalancing');
      const f = fakeBatch([0, 1, 2], {
        heartbeat: (call) => {
          if (call === 2) throw rebalance;
        },
      });
      await expect(consumer(async () => undefined, { committer })(f.payload)).rejects.toBe(rebalance);
      expect(f.commits).toEqual(['t[3]@2']);
    });

    it('a batch that ends because the consumer stops commits before it returns, output first', async () => {
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger });
      const output = deferred();
      const f = fakeBatch([0, 1]);
      const seen: number[] = [];
      const done = consumer(
        async (r) => {
          seen.push(r.record.n);
          return { published: output.promise };
        },
        { committer },
      )(f.payload);
      await until('record 0 handled', () => seen.length === 1);
      f.stop();
      output.resolve();
      await done;
      expect(f.commits).toEqual(['t[3]@1']);
    });

    it('a batch that ends because its partition was revoked commits before it returns', async () => {
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger });
      let owned = true;
      const f = fakeBatch([0, 1, 2]);
      await consumer(async (r) => void (r.record.n === 0 && (owned = false)), { committer, owns: () => owned })(f.payload);
      expect(f.commits).toEqual(['t[3]@1']);
    });

    it('once the committer is closed (stop), every batch commits before it returns', async () => {
      const committer = createOffsetCommitter({ intervalMs: 60_000, logger });
      const earlier = fakeBatch([0]);
      await consumer(async () => undefined, { committer })(earlier.payload);
      expect(earlier.commits).toEqual([]);
      committer.close();
      const later = fakeBatch([1]);
      await consumer(async () => undefined, { committer })(later.payload);
      // One commit, with what both batches handled, through the latest batch's function.
      expect(later.commits).toEqual(['t[3]@2']);
    });
  });
});
