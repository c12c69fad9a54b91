import type { HealthCheck } from './service';

/**
 * Revoked token ids, shared by every instance (Redis in a cluster).
 *
 * Guarantees: `revoke` is idempotent; once it resolves, `isRevoked` answers true on every
 * instance until the token would have expired anyway (entries are dropped after that,
 * since an expired token is refused on its own). `isRevoked` rejects with a retriable
 * error when the store is unreachable: callers fail closed, never treat that as "not revoked".
 */
export interface RevocationStore {
  revoke(jti: string, expiresAtEpochSeconds: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  health(): Promise<HealthCheck>;
}
