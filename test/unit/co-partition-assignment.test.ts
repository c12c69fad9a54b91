import { assignCoPartitions } from '../../src/domain/co-partition-assignment';

const all = (plan: Map<string, number[]>): number[] => [...plan.values()].flat().sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('assignCoPartitions', () => {
  it('gives every partition to exactly one member, balanced within one', () => {
    for (const members of [1, 2, 3, 5, 7, 12, 13]) {
      const plan = assignCoPartitions(
        range(members).map((i) => ({ memberId: `m${i}`, owned: [] })),
        12,
      );
      expect(all(plan)).toEqual(range(12));
      const sizes = [...plan.values()].map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic whatever the member order', () => {
    const members = [
      { memberId: 'b', owned: [1, 2] },
      { memberId: 'a', owned: [0] },
      { memberId: 'c', owned: [] },
    ];
    expect(assignCoPartitions(members, 12)).toEqual(assignCoPartitions([...members].reverse(), 12));
  });

  it('keeps partitions where they were when a member joins (sticky)', () => {
    const before = assignCoPartitions(
      [
        { memberId: 'a', owned: [] },
        { memberId: 'b', owned: [] },
      ],
      12,
    );
    const after = assignCoPartitions(
      [
        { memberId: 'a', owned: before.get('a')! },
        { memberId: 'b', owned: before.get('b')! },
        { memberId: 'c', owned: [] },
      ],
      12,
    );
    // c takes 4 partitions; a and b each give up 2 and keep 4.
    expect(after.get('c')).toHaveLength(4);
    for (const m of ['a', 'b']) {
      const kept = after.get(m)!.filter((p) => before.get(m)!.includes(p));
      expect(kept).toHaveLength(4);
    }
    expect(all(after)).toEqual(range(12));
  });

  it("moves only the dead member's partitions when one leaves", () => {
    const owned = { a: [0, 1, 2, 3], b: [4, 5, 6, 7], c: [8, 9, 10, 11] };
    const after = assignCoPartitions(
      [
        { memberId: 'a', owned: owned.a },
        { memberId: 'b', owned: owned.b },
      ],
      12,
    );
    expect(after.get('a')!.filter((p) => owned.a.includes(p))).toEqual(owned.a);
    expect(after.get('b')!.filter((p) => owned.b.includes(p))).toEqual(owned.b);
    expect(all(after)).toEqual(range(12));
  });

  it('ignores claims on partitions that do not exist or are claimed twice', () => {
    const plan = assignCoPartitions(
      [
        { memberId: 'a', owned: [0, 99, -1] },
        { memberId: 'b', owned: [0, 1] },
      ],
      4,
    );
    expect(all(plan)).toEqual(range(4));
    expect(plan.get('a')).toContain(0);
  });

  it('returns nothing for no members', () => {
    expect(assignCoPartitions([], 12).size).toBe(0);
  });
});
