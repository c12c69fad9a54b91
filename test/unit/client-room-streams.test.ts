import { createRoomStreams } from '../../client/src/room-streams';
import type { Message } from '../../client/src/protocol';

const msg = (seq: number, roomId = 'r1'): Message => ({
  id: `${roomId}-${seq}`,
  roomId,
  seq,
  senderId: 'bob',
  text: `m${seq}`,
  ts: '2026-01-01T00:00:00.000Z',
  clientMsgId: `c${seq}`,
});
const seqs = (ms: Message[]) => ms.map((m) => m.seq);

describe('client room streams: once, in order, no gap', () => {
  it('holds a message above a gap until the gap closes, then releases in order', () => {
    const s = createRoomStreams();
    s.track('r1', 0);
    expect(seqs(s.offer(msg(1), 0))).toEqual([1]);
    expect(seqs(s.offer(msg(3), 0))).toEqual([]);
    expect(seqs(s.offer(msg(4), 0))).toEqual([]);
    expect(s.waiting()).toBe(true);
    expect(seqs(s.offer(msg(2), 0))).toEqual([2, 3, 4]);
    expect(s.waiting()).toBe(false);
  });

  it('resumes from the highest CONTIGUOUS seq, not the highest seen', () => {
    const s = createRoomStreams();
    s.track('r1', 0);
    s.offer(msg(1), 0);
    s.offer(msg(2), 0);
    s.offer(msg(50), 0); // our own ack, ahead of 3..49 still in flight
    expect(s.resumePoints()).toEqual({ r1: 2 });
  });

  it('drops repeats: below the floor and already buffered', () => {
    const s = createRoomStreams();
    s.track('r1', 0);
    s.offer(msg(1), 0);
    expect(s.offer(msg(1), 0)).toEqual([]);
    s.offer(msg(3), 0);
    expect(s.offer(msg(3), 0)).toEqual([]);
    expect(seqs(s.offer(msg(2), 0))).toEqual([2, 3]);
  });

  it('starts a tracked room after its given seq and never moves a tracked room', () => {
    const s = createRoomStreams();
    expect(s.track('r1', 10)).toBe(true);
    expect(s.track('r1', 0)).toBe(false);
    expect(s.offer(msg(9), 0)).toEqual([]);
    expect(seqs(s.offer(msg(11), 0))).toEqual([11]);
    expect(s.resumePoints()).toEqual({ r1: 11 });
  });

  it('starts an untracked room at its first message', () => {
    const s = createRoomStreams();
    expect(seqs(s.offer(msg(7, 'r2'), 0))).toEqual([7]);
    expect(s.resumePoints()).toEqual({ r2: 7 });
  });

  it('names rooms whose gap is overdue, counted from the last progress', () => {
    const s = createRoomStreams();
    s.track('r1', 0);
    s.track('r2', 0);
    s.offer(msg(2, 'r1'), 1_000);
    s.offer(msg(1, 'r2'), 1_000);
    expect(s.overdueGaps(2_999, 2_000)).toEqual([]);
    expect(s.overdueGaps(3_000, 2_000)).toEqual(['r1']);
    s.untrack('r1');
    expect(s.overdueGaps(9_000, 2_000)).toEqual([]);
  });
});
