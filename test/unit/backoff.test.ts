import { backoffDelay } from '../../src/domain/backoff';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 2_000, factor: 2 };
  it('grows exponentially up to the cap (upper bound with random → 1)', () => {
    const top = (attempt: number) => backoffDelay(attempt, policy, () => 0.999999);
    expect(top(1)).toBe(99);
    expect(top(2)).toBe(199);
    expect(top(3)).toBe(399);
    expect(top(10)).toBe(1_999);
  });
  it('is jittered down to zero', () => {
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
  });
});
