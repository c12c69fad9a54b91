/**
 * Capped exponential backoff with full jitter: attempt n waits a uniform random time in
 * [0, min(max, min·2ⁿ)). WHY full jitter: after a server restart every client reconnects;
 * random delays spread them out instead of hitting the new instance all at once.
 */
export interface BackoffOptions {
  /** Delay cap of the first retry. Default 500 ms. */
  readonly minDelayMs?: number;
  /** Largest delay. Default 10 s. */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1). Default Math.random (tests pass their own). */
  readonly random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call counts one more attempt. */
  next(): number;
  /** A success: the next delay starts small again. */
  reset(): void;
  /** Attempts since the last reset. */
  attempts(): number;
}

export function createBackoff({ minDelayMs = 500, maxDelayMs = 10_000, random = Math.random }: BackoffOptions = {}): Backoff {
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.floor(random() * cap);
    },
    reset() {
      attempt = 0;
    },
    attempts: () => attempt,
  };
}
