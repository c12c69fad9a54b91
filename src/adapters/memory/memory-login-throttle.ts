import type { LoginSubject, LoginThrottle, LoginThrottleLimits } from '../../ports/login-throttle';

interface Window {
  count: number;
  endsAt: number;
}

/**
 * Login throttling in this process's memory: the single-process default and unit tests.
 * With several instances each counts alone, so an attacker gets N times the limit: use
 * the Redis adapter there (createApp does whenever REDIS_URL is set).
 */
export function createMemoryLoginThrottle({
  limits,
  maxKeys = 100_000,
  now = Date.now,
}: {
  limits: LoginThrottleLimits;
  /** Most windows kept; past it ended ones are swept, then the oldest dropped. Default 100 000. */
  maxKeys?: number;
  now?: () => number;
}): LoginThrottle {
  const windows = new Map<string, Window>();
  const live = (key: string, t: number): Window | undefined => {
    const w = windows.get(key);
    if (w !== undefined && w.endsAt <= t) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  const keys = (s: LoginSubject) => ({ account: `acct:${s.userId}`, ip: `ip:${s.ip}` });
  const giveBack = (key: string, t: number): void => {
    const w = live(key, t);
    if (w !== undefined && w.count > 0) w.count -= 1;
  };
  const makeRoom = (t: number): void => {
    if (windows.size < maxKeys) return;
    for (const [key, w] of windows) if (w.endsAt <= t) windows.delete(key);
    while (windows.size >= maxKeys) {
      const oldest = windows.keys().next();
      if (oldest.done === true) break;
      windows.delete(oldest.value);
    }
  };

  return {
    async acquire(subject) {
      const t = now();
      const k = keys(subject);
      const account = live(k.account, t);
      const ip = live(k.ip, t);
      const full: { scope: 'account' | 'ip'; retryAfterMs: number }[] = [];
      if (account !== undefined && account.count >= limits.maxPerAccount) full.push({ scope: 'account', retryAfterMs: account.endsAt - t });
      if (ip !== undefined && ip.count >= limits.maxPerIp) full.push({ scope: 'ip', retryAfterMs: ip.endsAt - t });
      if (full.length > 0) {
        const longest = full.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
        return { allowed: false, ...longest };
      }
      for (const [key, w] of [
        [k.account, account],
        [k.ip, ip],
      ] as const) {
        if (w !== undefined) w.count += 1;
        else {
          makeRoom(t);
          windows.set(key, { count: 1, endsAt: t + limits.windowMs });
        }
      }
      return { allowed: true };
    },
    async succeeded(subject) {
      const k = keys(subject);
      windows.delete(k.account);
      giveBack(k.ip, now());
    },
    async release(subject) {
      const k = keys(subject);
      const t = now();
      giveBack(k.account, t);
      giveBack(k.ip, t);
    },
    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
