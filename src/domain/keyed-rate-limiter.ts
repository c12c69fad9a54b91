import { newBucket, takeToken, type TokenBucket } from './token-bucket';

/**
 * Token buckets by key (a client IP, say), in this process's memory. Memory is bounded:
 * a bucket that has refilled completely says nothing a new one would not, so it is
 * dropped; when `maxKeys` buckets are still live, the least recently used go first (a
 * flood of distinct keys can then only make the limiter forget, never grow without end).
 */
export interface KeyedRateLimiter {
  /** Takes one token from `key`'s bucket; false when it is empty. */
  take(key: string): boolean;
  /** Buckets currently held (tests, metrics). */
  size(): number;
}

export function createKeyedRateLimiter({
  ratePerSec,
  burst,
  maxKeys = 100_000,
  now = Date.now,
}: {
  ratePerSec: number;
  burst: number;
  /** Most buckets kept at once. Default 100 000 (a few MiB). */
  maxKeys?: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}): KeyedRateLimiter {
  // A Map iterates in insertion order; re-inserting on use keeps it least-recently-used first.
  const buckets = new Map<string, TokenBucket>();
  const fullAfterMs = (burst / ratePerSec) * 1000;
  let lastSweep = now();

  const sweep = (t: number): void => {
    for (const [key, bucket] of buckets) {
      if (t - bucket.updatedAt >= fullAfterMs) buckets.delete(key);
    }
    lastSweep = t;
  };

  return {
    take(key) {
      const t = now();
      // Sweeps are timed, never triggered by size: a flood of new keys must not make every
      // call walk the whole map. At capacity the least recently used bucket goes instead.
      if (t - lastSweep >= fullAfterMs) sweep(t);
      while (!buckets.has(key) && buckets.size >= maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done === true) break;
        buckets.delete(oldest.value);
      }
      const bucket = buckets.get(key) ?? newBucket(burst, t);
      buckets.delete(key);
      buckets.set(key, bucket);
      return takeToken(bucket, t, { ratePerSec, burst });
    },
    size: () => buckets.size,
  };
}
