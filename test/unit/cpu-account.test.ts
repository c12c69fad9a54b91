import { usedMs, type GroupSnapshot, type ProcTimes } from '../../scripts/bench/cpu-account';

// A PostgreSQL-like group: the postmaster (pid 1, parent of the rest) and its backends.
const proc = (ppid: number, self: number, reaped = 0, start = '100'): ProcTimes => ({ start, ppid, self, reaped });
const snap = (entries: Record<number, ProcTimes>): GroupSnapshot => new Map(Object.entries(entries).map(([pid, t]) => [Number(pid), t]));

describe('usedMs (the bench CPU account)', () => {
  it('counts each process that stayed for its time since the first snapshot', () => {
    const before = snap({ 1: proc(0, 500), 2: proc(1, 1_000) });
    const after = snap({ 1: proc(0, 520), 2: proc(1, 1_300) });
    expect(usedMs(before, after)).toBe(20 + 300);
  });

  it('counts a backend that lived through earlier phases and exited in this one only for its time since the first snapshot', () => {
    // Backend 2 had used 4 s before the phase and 0.1 s in it; when it exited, the
    // postmaster reaped it and its `reaped` grew by the whole 4.1 s.
    const before = snap({ 1: proc(0, 500, 0), 2: proc(1, 4_000) });
    const after = snap({ 1: proc(0, 510, 4_100) });
    expect(usedMs(before, after)).toBe(10 + 100);
  });

  it('counts all of a backend that started and exited within the phase', () => {
    const before = snap({ 1: proc(0, 500, 0) });
    const after = snap({ 1: proc(0, 500, 250) });
    expect(usedMs(before, after)).toBe(250);
  });

  it('counts all of a process started since the first snapshot, and a reused pid as a new process', () => {
    const before = snap({ 1: proc(0, 500), 2: proc(1, 4_000, 0, '100') });
    // Backend 2 exited (reaped: 4.2 s in all) and a new backend got pid 2 and used 0.3 s.
    const after = snap({ 1: proc(0, 500, 4_200), 2: proc(1, 300, 0, '900') });
    expect(usedMs(before, after)).toBe(200 + 300);
  });

  it('takes nothing off for a process that exited with no reaper in the group (its time since is missed, not negative)', () => {
    const before = snap({ 7: proc(3, 2_000), 8: proc(3, 1_000) });
    const after = snap({ 8: proc(3, 1_200) });
    expect(usedMs(before, after)).toBe(200);
  });
});
