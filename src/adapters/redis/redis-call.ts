import type { Redis } from 'ioredis';
import { UnavailableError } from '../../domain/errors';
import type { HealthCheck } from '../../ports/service';

/**
 * Runs one Redis operation; any failure becomes a retriable UnavailableError naming it.
 * (The client has no offline queue, so an unreachable Redis fails here at once.)
 */
export async function redisCall<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new UnavailableError(`redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

/** Readiness of a Redis-backed adapter: a PING. */
export async function redisHealth(redis: Redis): Promise<HealthCheck> {
  try {
    await redis.ping();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
