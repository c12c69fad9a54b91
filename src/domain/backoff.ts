/**
 * Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
 * and Jitter"): the delay before retry `attempt` (1-based) is uniform in
 * [0, min(maxMs, initialMs * factor^(attempt-1))]. Jitter spreads the retries of many
 * partitions that failed at once, so a recovering dependency is not hit in lock-step.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export const defaultBackoff: BackoffPolicy = Object.freeze({ initialMs: 100, maxMs: 5_000, factor: 2 });

export function backoffDelay(attempt: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
