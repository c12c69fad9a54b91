import type { HealthCheck } from './service';

/** Whose attempt it is: the account named in the body and the client's IP. */
export interface LoginSubject {
  readonly userId: string;
  readonly ip: string;
}

export type LoginAdmission =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Which limit is full (the one that stays full longer when both are). */
      readonly scope: 'account' | 'ip';
      /** How long until it has room again; always > 0. */
      readonly retryAfterMs: number;
    };

/**
 * Login throttling per account and per client IP, shared by every instance (Redis in a
 * cluster), so spreading guesses over instances gains an attacker nothing.
 *
 * Guarantees:
 * - `acquire` counts one attempt against the account and against the IP, atomically for
 *   every instance sharing the store, and only when both are under their limits;
 *   otherwise it counts nothing and refuses, saying how long the full limit stays full.
 *   So at most `maxPerAccount` attempts on one account (`maxPerIp` from one IP) pass in a
 *   window, even when they arrive at the same moment on different instances.
 * - Windows are fixed: one starts at the first attempt counted for a key, and the key's
 *   count drops to zero when it ends.
 * - `succeeded` clears the account's count (its owner knows the password) and gives the
 *   IP its attempt back; `release` gives both their attempt back (no answer was given:
 *   timeout, server error). So what stays counted is failed attempts. Neither ever takes
 *   a count below zero or revives an ended window.
 * - An unreachable store makes every method reject with a retriable error: callers fail
 *   closed (no login while the throttle cannot count), never treat it as "allowed".
 */
export interface LoginThrottle {
  acquire(subject: LoginSubject): Promise<LoginAdmission>;
  succeeded(subject: LoginSubject): Promise<void>;
  release(subject: LoginSubject): Promise<void>;
  health(): Promise<HealthCheck>;
}

/** The limits every adapter takes. */
export interface LoginThrottleLimits {
  /** Attempts one account may fail in a window. */
  readonly maxPerAccount: number;
  /** Attempts one IP may fail in a window, over every account. */
  readonly maxPerIp: number;
  readonly windowMs: number;
}
