import { ResumeGate } from '../../src/gateway/resume-gate';
import type { ServerFrame } from '../../src/protocol/frames';
import type { Message } from '../../src/protocol/message';

const msg = (seq: number, roomId = 'r'): Message => ({
  id: `m${seq}`,
  roomId,
  seq,
  senderId: 'someone',
  text: 't',
  ts: new Date(0).toISOString(),
  clientMsgId: `c${seq}`,
});

function gate(now = () => 0) {
  const out: ServerFrame[] = [];
  const g = new ResumeGate((f) => out.push(f) > 0, { gapTimeoutMs: 1_000, now });
  const seqs = () => out.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message').map((f) => f.message.seq);
  return { g, out, seqs };
}

describe('ResumeGate', () => {
  it('does not wait for a seq the connection got as its own ack', () => {
    const { g, seqs, out } = gate();
    g.push({ type: 'message', message: msg(1) });
    g.push({ type: 'ack', clientMsgId: 'c2', message: msg(2) });
    g.push({ type: 'message', message: msg(3) });
    expect(seqs()).toEqual([1, 3]);
    expect(out.map((f) => f.type)).toEqual(['message', 'ack', 'message']);
  });

  it('puts messages of a room in seq order and passes other frames straight through', () => {
    const { g, seqs, out } = gate();
    g.push({ type: 'message', message: msg(1) });
    g.push({ type: 'message', message: msg(3) });
    g.push({ type: 'pong' });
    g.push({ type: 'message', message: msg(2) });
    expect(seqs()).toEqual([1, 2, 3]);
    expect(out[1]).toEqual({ type: 'pong' });
  });

  it('fills a gap that outlasts the timeout from the archive, keeping seq order', async () => {
    jest.useFakeTimers();
    let now = 0;
    const out: ServerFrame[] = [];
    const asked: [string, number, number][] = [];
    const g = new ResumeGate((f) => out.push(f) > 0, {
      gapTimeoutMs: 100,
      now: () => now,
      fetchGap: async (roomId, from, to) => {
        asked.push([roomId, from, to]);
        return [msg(2), msg(3)];
      },
    });
    g.push({ type: 'message', message: msg(1) });
    g.push({ type: 'message', message: msg(4) });
    now = 200;
    await jest.advanceTimersByTimeAsync(150);
    const seqs = out.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message').map((f) => f.message.seq);
    expect(asked).toEqual([['r', 2, 3]]);
    expect(seqs).toEqual([1, 2, 3, 4]);
    g.push({ type: 'message', message: msg(2) });
    expect(out).toHaveLength(4);
    g.close();
    jest.useRealTimers();
  });

  it('resume: history first, then live messages held meanwhile, without duplicates', async () => {
    const { g, seqs } = gate();
    let release!: (m: Message[][]) => void;
    const done = g.resume({ r: 2 }, () => new Promise((resolve) => (release = resolve)));
    g.push({ type: 'message', message: msg(5) });
    g.push({ type: 'message', message: msg(4) });
    expect(seqs()).toEqual([]);
    release([[msg(3), msg(4)]]);
    await done;
    expect(seqs()).toEqual([3, 4, 5]);
  });
});
