import { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger';

/**
 * One ioredis connection per instance. No offline queue: while Redis is down, commands
 * fail at once with a retriable error instead of piling up in memory, and reconnects go
 * on in the background with capped backoff.
 */
export function createRedisClient({ url, logger }: { url: string; logger: Logger }): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
  });
  const log = logger.child({ component: 'redis' });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info('redis reconnected');
    down = false;
  });
  return redis;
}
