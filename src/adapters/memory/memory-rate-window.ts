import type { RateWindow, RateWindowLimits } from '../../ports/rate-window';

/**
 * RateWindow in one process's memory (the single-process default, and unit tests). Ended
 * windows are dropped as keys are hit, and all of them once the map passes `maxKeys`, so
 * memory stays bounded however many addresses knock.
 */
export function createMemoryRateWindow({
  limits,
  now = Date.now,
  maxKeys = 100_000,
}: {
  limits: RateWindowLimits;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  /** Keys kept before ended windows are swept. Default 100,000. */
  maxKeys?: number;
}): RateWindow {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const sweep = (t: number): void => {
    for (const [key, w] of windows) if (w.endsAt <= t) windows.delete(key);
  };
  return {
    async hit(key) {
      const t = now();
      let w = windows.get(key);
      if (w === undefined || w.endsAt <= t) {
        if (windows.size >= maxKeys) sweep(t);
        w = { count: 0, endsAt: t + limits.windowMs };
        windows.set(key, w);
      }
      if (w.count >= limits.max) return { allowed: false, retryAfterMs: w.endsAt - t };
      w.count++;
      return { allowed: true };
    },
    async health() {
      return { ok: true };
    },
  };
}
