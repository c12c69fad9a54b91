import { UnavailableError } from '../../src/domain/errors';
import { createAppendBatcher } from '../../src/owner/append-batcher';
import type { AppendOutcome, NewMessage } from '../../src/ports/chat-store';

const msg = (n: number): NewMessage => ({ id: `m${n}`, roomId: 'r', senderId: 'u', clientMsgId: `c${n}`, text: `t${n}` });
const stored = (m: NewMessage, seq: number): AppendOutcome => ({
  ok: true,
  created: true,
  members: ['u'],
  message: { id: m.id, roomId: m.roomId, seq, senderId: m.senderId, clientMsgId: m.clientMsgId, text: m.text, ts: new Date(0).toISOString() },
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
    const first = [b.append(msg(1)), b.append(msg(2))];
    await until(() => store.lists.length === 1);
    const later = [b.append(msg(3)), b.append(msg(4)), b.append(msg(5))];
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
    const all = [1, 2, 3, 4, 5].map((n) => b.append(msg(n)));
    for (let k = 0; k < 3; k++) {
      await until(() => store.lists.length === k + 1);
      store.release();
    }
    await Promise.all(all);
    expect(store.lists).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
  });

  it('rejects every append of a failed statement, and only those; the next statement goes on', async () => {
    const store = gatedStore((call) => call === 1);
    const b = createAppendBatcher({ store });
    const failed = [b.append(msg(1)), b.append(msg(2))];
    await until(() => store.lists.length === 1);
    const next = b.append(msg(3));
    store.release();
    await expect(failed[0]).rejects.toBeInstanceOf(UnavailableError);
    await expect(failed[1]).rejects.toBeInstanceOf(UnavailableError);
    await until(() => store.lists.length === 2);
    store.release();
    expect(await next).toMatchObject({ ok: true, message: { id: 'm3' } });
  });
});
