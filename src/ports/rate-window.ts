import type { HealthCheck } from './service';

/** What a hit gets: through, or refused with how long until the window ends. */
export type RateAdmission = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * A fixed-window counter per key (a client IP, say): at most `max` hits per window, the
 * window starting at the key's first hit.
 *
 * Guarantees:
 * - atomic across instances on one storage: of simultaneous hits on any instances, exactly
 *   the free ones pass;
 * - a refused hit is not counted, so a client that keeps knocking does not push its own
 *   window further out;
 * - every count expires with its window (no key lives for ever);
 * - storage failure is a retriable error (UNAVAILABLE), never "allowed": it fails closed.
 */
export interface RateWindow {
  hit(key: string): Promise<RateAdmission>;
  health(): Promise<HealthCheck>;
}

export interface RateWindowLimits {
  /** Hits one key may make in a window. */
  readonly max: number;
  readonly windowMs: number;
}
