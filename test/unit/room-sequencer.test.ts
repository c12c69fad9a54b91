import { RoomSequencer } from '../../src/domain/room-sequencer';

const make = (gapTimeoutMs = 1_000) => {
  const out: number[] = [];
  const s = new RoomSequencer<{ seq: number }>((m) => out.push(m.seq), { gapTimeoutMs });
  return { s, out };
};

describe('RoomSequencer', () => {
  it('writes in seq order, holding a message until the gap before it fills', () => {
    const { s, out } = make();
    s.offer({ seq: 1 }, 0);
    s.offer({ seq: 3 }, 0);
    s.offer({ seq: 4 }, 0);
    expect(out).toEqual([1]);
    s.offer({ seq: 2 }, 10);
    expect(out).toEqual([1, 2, 3, 4]);
  });

  it('drops duplicates', () => {
    const { s, out } = make();
    for (const seq of [1, 2, 2, 1, 3, 3]) s.offer({ seq }, 0);
    expect(out).toEqual([1, 2, 3]);
  });

  it('releases held messages after the gap timeout, and still writes the late one', () => {
    const { s, out } = make(1_000);
    s.offer({ seq: 1 }, 0);
    s.offer({ seq: 3 }, 100);
    expect(s.tick(900)).toBe(true);
    expect(out).toEqual([1]);
    expect(s.tick(1_100)).toBe(false);
    expect(out).toEqual([1, 3]);
    s.offer({ seq: 2 }, 2_000);
    s.offer({ seq: 4 }, 2_000);
    expect(out).toEqual([1, 3, 2, 4]);
  });

  it('restarts the wait when the sequence moves, so a later gap gets its full timeout', () => {
    const { s, out } = make(1_000);
    s.offer({ seq: 1 }, 0);
    s.offer({ seq: 3 }, 0);
    s.offer({ seq: 5 }, 900);
    s.offer({ seq: 2 }, 950);
    expect(out).toEqual([1, 2, 3]);
    expect(s.tick(1_100)).toBe(true);
    expect(out).toEqual([1, 2, 3]);
    s.offer({ seq: 4 }, 1_200);
    expect(out).toEqual([1, 2, 3, 4, 5]);
  });

  it('starts after a resume point: earlier seqs are not waited for, later gaps are', () => {
    const { s, out } = make();
    s.startAfter(10);
    s.offer({ seq: 12 }, 0);
    expect(out).toEqual([]);
    s.offer({ seq: 11 }, 0);
    expect(out).toEqual([11, 12]);
  });
});

describe('RoomSequencer window', () => {
  const windowed = (window: number) => {
    const out: number[] = [];
    const s = new RoomSequencer<{ seq: number }>((m) => out.push(m.seq), { gapTimeoutMs: 1_000, window });
    return { s, out };
  };

  it('drops duplicates within the last `window` seqs written, and writes one older than that as late', () => {
    const { s, out } = windowed(3);
    for (const seq of [1, 2, 3, 4, 5]) s.offer({ seq }, 0);
    s.offer({ seq: 3 }, 0);
    s.offer({ seq: 5 }, 0);
    expect(out).toEqual([1, 2, 3, 4, 5]);
    s.offer({ seq: 2 }, 0);
    expect(out).toEqual([1, 2, 3, 4, 5, 2]);
  });

  it('forgets by age of writing: a late seq written after newer ones is remembered longer', () => {
    const { s, out } = windowed(3);
    s.offer({ seq: 1 }, 0);
    s.offer({ seq: 3 }, 0);
    s.tick(1_000); // gives up on 2: writes 3
    s.offer({ seq: 4 }, 1_000);
    s.offer({ seq: 5 }, 1_000);
    s.offer({ seq: 2 }, 1_000); // late: written, and remembered past 3
    expect(out).toEqual([1, 3, 4, 5, 2]);
    s.offer({ seq: 2 }, 1_000);
    expect(out).toEqual([1, 3, 4, 5, 2]);
    s.offer({ seq: 3 }, 1_000);
    expect(out).toEqual([1, 3, 4, 5, 2, 3]);
  });

  it('keeps at most `window` seqs however many pass', () => {
    const { s, out } = windowed(4);
    for (let seq = 1; seq <= 10_000; seq++) s.offer({ seq }, 0);
    expect(out).toHaveLength(10_000);
    for (let seq = 9_997; seq <= 10_000; seq++) s.offer({ seq }, 0);
    expect(out).toHaveLength(10_000);
    s.offer({ seq: 9_996 }, 0);
    expect(out).toHaveLength(10_001);
  });
});
