import pino from 'pino';
import { createOffsetCommitter, type CommitOffsets } from '../../src/adapters/kafka/offset-committer';

const logger = pino({ level: 'silent' });
const flat = (o: CommitOffsets): string[] =>
  o.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}[${p.partition}]@${p.offset}`)).sort();

describe('offset committer', () => {
  it('commits nothing until something is handled', async () => {
    const commit = jest.fn(async () => undefined);
    const c = createOffsetCommitter({ intervalMs: 0, logger });
    c.use(commit);
    await c.flush();
    expect(commit).not.toHaveBeenCalled();
  });

  it('one commit carries the latest offset of every partition, and only once', async () => {
    const seen: string[][] = [];
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => void seen.push(flat(o)));
    c.handled('a', 0, '5');
    c.handled('a', 0, '7');
    c.handled('a', 1, '2');
    c.handled('b', 0, '1');
    await c.flush();
    await c.flush();
    expect(seen).toEqual([['a[0]@7', 'a[1]@2', 'b[0]@1']]);
    c.close();
  });

  it('never commits an offset backwards', async () => {
    const seen: string[][] = [];
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => void seen.push(flat(o)));
    c.handled('a', 0, '9');
    c.handled('a', 0, '4');
    await c.flush();
    expect(seen).toEqual([['a[0]@9']]);
    c.close();
  });

  it('commits one at a time; an offset handled during a commit goes in the next', async () => {
    const seen: string[][] = [];
    let release!: () => void;
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => {
      seen.push(flat(o));
      if (seen.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    c.handled('a', 0, '1');
    const first = c.flush();
    await Promise.resolve();
    c.handled('a', 0, '2');
    const second = c.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([['a[0]@1']]);
    release();
    await Promise.all([first, second]);
    expect(seen).toEqual([['a[0]@1'], ['a[0]@2']]);
    c.close();
  });

  it('keeps the offsets of a failed commit for the next one', async () => {
    const seen: string[][] = [];
    let fail = true;
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => {
      seen.push(flat(o));
      if (fail) throw new Error('coordinator moved');
    });
    c.handled('a', 0, '3');
    await expect(c.flush()).rejects.toThrow('coordinator moved');
    fail = false;
    await c.flush();
    expect(seen).toEqual([['a[0]@3'], ['a[0]@3']]);
    c.close();
  });

  it('drops the offsets of partitions no longer retained (revoked)', async () => {
    const seen: string[][] = [];
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => void seen.push(flat(o)));
    c.handled('a', 0, '3');
    c.handled('a', 1, '4');
    c.retain((_t, p) => p === 1);
    await c.flush();
    expect(seen).toEqual([['a[1]@4']]);
    c.close();
  });

  it('lists what is handled but not committed, until a commit carries it; a refused commit leaves it listed', async () => {
    let refuse = true;
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async () => {
      if (refuse) throw new Error('refused');
    });
    c.handled('a', 0, '3');
    c.handled('a', 1, '4');
    c.handled('a', 0, '2'); // never backwards
    await expect(c.flush()).rejects.toThrow('refused');
    expect(c.pending()).toEqual([
      { topic: 'a', partition: 0, offset: '3' },
      { topic: 'a', partition: 1, offset: '4' },
    ]);
    refuse = false;
    await c.flush();
    expect(c.pending()).toEqual([]);
    c.close();
  });

  it('an overtaking flush goes out beside a commit in flight, not after it', async () => {
    const sent: string[][] = [];
    let release!: () => void;
    const c = createOffsetCommitter({ intervalMs: 60_000, logger });
    c.use(async (o) => {
      sent.push(flat(o));
      if (sent.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    c.handled('a', 0, '3');
    const slow = c.flush();
    while (sent.length === 0) await Promise.resolve();
    c.handled('a', 0, '5');
    const queued = c.flush();
    const overtaking = c.flush({ overtake: true });
    await overtaking;
    expect(sent).toEqual([['a[0]@3'], ['a[0]@5']]);
    release();
    await Promise.all([slow, queued]);
    // The queued one found nothing left: the overtaking commit carried it.
    expect(sent).toEqual([['a[0]@3'], ['a[0]@5']]);
    expect(c.pending()).toEqual([]);
    c.close();
  });

  it('commits on a timer within the interval, and not at all while nothing is handled', async () => {
    const seen: string[][] = [];
    const c = createOffsetCommitter({ intervalMs: 30, logger });
    c.use(async (o) => void seen.push(flat(o)));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(seen).toEqual([]);
    c.handled('a', 0, '1');
    expect(seen).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(seen).toEqual([['a[0]@1']]);
    c.close();
  });

  it('says when a batch must flush itself: interval 0, or closed', () => {
    expect(createOffsetCommitter({ intervalMs: 0, logger }).flushAtBatchEnd()).toBe(true);
    const c = createOffsetCommitter({ intervalMs: 1_000, logger });
    expect(c.flushAtBatchEnd()).toBe(false);
    c.close();
    expect(c.flushAtBatchEnd()).toBe(true);
  });
});
