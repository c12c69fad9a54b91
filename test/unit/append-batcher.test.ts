import { UnavailableError } from '../../src/domain/errors';
import { createAppendBatcher } from '../../src/owner/append-batcher';
import type { AppendOutcome, NewMessage } from '../../src/ports/chat-store';

const msg = (n: number): NewMessage => ({ id: `m${n}`, roomId: 'r', senderId: 'u', clientMsgId: `c${n}`, text: `t${n}` });
const stored = (m: NewMessage, seq: number): AppendOutcome => ({
  ok: true,
  created: true,
  members: ['u'],
  message: {
    id: m.id,
    roomId: m.roomId,
    seq,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    ts: new Date(0).toISOString(),
  },
});

/** A store whose statements wait until released, recording the lists it was given. */
function gatedStore(fail?: (call: number) => boolean) {
  const lists: string[][] = [];
  const gates: (() => void)[] = [];
  let seq = 0;
  return {
    lists,
    release: () => gates.shift()?.(),
    async appendMessages(list: readonly NewMessage[]): Promise<AppendOutcome[]> {
      lists.push(list.map((m) => m.id));
      const call = lists.length;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (fail?.(call) === true) throw new UnavailableError('database down');
      return list.map((m) => stored(m, ++seq));
    },
  };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
};

describe('append batcher', () => {
  it('writes the appends of one event-loop turn together, queues the rest behind the statement in flight, in order', async () => {
    const store = gatedStore();
    const b = createAppendBatcher({ store });
    const first = [b.append(msg(1), 0), b.append(msg(2), 0)];
    await until(() => store.lists.length === 1);
    const later = [b.append(msg(3), 1), b.append(msg(4), 1), b.append(msg(5), 2)];
    expect(store.lists).toEqual([['m1', 'm2']]);
    store.release();
    await until(() => store.lists.length === 2);
    expect(store.lists[1]).toEqual(['m3', 'm4', 'm5']);
    store.release();
    const outcomes = await Promise.all([...first, ...later]);
    expect(outcomes.map((o) => (o.ok ? [o.message.id, o.message.seq] : o.error.code))).toEqual([
      ['m1', 1],
      ['m2', 2],
      ['m3', 3],
      ['m4', 4],
      ['m5', 5],
    ]);
  });

  it('splits a long queue at maxBatch', async () => {
    const store = gatedStore();
    const b = createAppendBatcher({ store, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => b.append(msg(n), n));
    for (let k = 0; k < 3; k++) {
      await until(() => store.lists.length === k + 1);
      store.release();
    }
    await Promise.all(all);
    expect(store.lists).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
  });

  it('after a failed statement, rejects what was queued behind it and refuses its lanes until they resume; other lanes go on', async () => {
    const store = gatedStore((call) => call === 1);
    const b = createAppendBatcher({ store });
    const failed = [b.append(msg(1), 0), b.append(msg(2), 1)];
    await until(() => store.lists.length === 1);
    const queued = b.append(msg(3), 2);
    store.release();
    for (const p of [...failed, queued]) await expect(p).rejects.toBeInstanceOf(UnavailableError);
    // Lanes 0, 1 and 2 had appends in or behind the failed statement: refused at once, not written.
    await expect(b.append(msg(4), 0)).rejects.toThrow('handled again first');
    await expect(b.append(msg(5), 2)).rejects.toThrow('handled again first');
    const other = b.append(msg(6), 7);
    await until(() => store.lists.length === 2);
    expect(store.lists[1]).toEqual(['m6']);
    store.release();
    expect(await other).toMatchObject({ ok: true, message: { id: 'm6' } });
    b.resume(0);
    const again = b.append(msg(1), 0);
    await until(() => store.lists.length === 3);
    store.release();
    expect(await again).toMatchObject({ ok: true, message: { id: 'm1' } });
    await expect(b.append(msg(5), 2)).rejects.toThrow('handled again first');
  });
});
