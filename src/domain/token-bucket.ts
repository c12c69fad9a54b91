/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSec`. Pure and lock-free:
 * the owner of a user is its only writer.
 */
export interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

export function newBucket(burst: number, now: number): TokenBucket {
  return { tokens: burst, updatedAt: now };
}

/** Takes one token if there is one; returns whether it could. */
export function takeToken(bucket: TokenBucket, now: number, { ratePerSec, burst }: { ratePerSec: number; burst: number }): boolean {
  const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
  bucket.tokens = Math.min(burst, bucket.tokens + elapsed * ratePerSec);
  bucket.updatedAt = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
