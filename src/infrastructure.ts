import type { Redis } from 'ioredis';
import type { Config } from './config/config';
import type { Logger } from './observability/logger';
import type { Metrics } from './observability/metrics';
import type { Bus } from './ports/bus';
import type { ChatStore } from './ports/chat-store';
import type { InstanceDirectory } from './ports/instance-directory';
import type { LoginThrottle } from './ports/login-throttle';
import type { RateWindow } from './ports/rate-window';
import type { RefreshTokenStore } from './ports/refresh-token-store';
import type { RevocationStore } from './ports/revocation-store';
import type { HealthCheck } from './ports/service';
import type { SessionMirror } from './ports/session-mirror';
import { createKafkaBus } from './adapters/kafka/kafka-bus';
import type { MemoryBroker } from './adapters/memory/memory-broker';
import { createMemoryBus } from './adapters/memory/memory-bus';
import { createLocalInstanceDirectory } from './adapters/memory/local-instance-directory';
import { createMemoryLoginThrottle } from './adapters/memory/memory-login-throttle';
import { createMemoryRateWindow } from './adapters/memory/memory-rate-window';
import { createMemoryRevocationStore } from './adapters/memory/memory-revocation-store';
import { createMemorySessionMirror } from './adapters/memory/memory-session-mirror';
import { createPgliteChatStore } from './adapters/pglite/pglite-chat-store';
import { createPrismaChatStore } from './adapters/prisma/prisma-chat-store';
import { createRedisClient } from './adapters/redis/redis-client';
import { createRedisInstanceDirectory } from './adapters/redis/redis-instance-directory';
import { createRedisLoginThrottle } from './adapters/redis/redis-login-throttle';
import { createRedisRateWindow } from './adapters/redis/redis-rate-window';
import { createRedisRevocationStore } from './adapters/redis/redis-revocation-store';
import { createRedisSessionMirror, sessionMirrorRebuildMs } from './adapters/redis/redis-session-mirror';
import { service, type NamedService } from './service-group';

/** Every adapter an instance runs on, each picked once from the configuration. */
export interface Infrastructure {
  readonly bus: Bus;
  readonly store: ChatStore;
  readonly revocations: RevocationStore;
  readonly loginThrottle: LoginThrottle;
  /** Registrations per client IP per window. */
  readonly registrations: RateWindow;
  /** User searches per user per window. */
  readonly userSearches: RateWindow;
  /**
   * Refresh-token families: in the store's database, written by the gateway directly (like
   * registration), not through the owner: a refresh changes no live state of the user.
   */
  readonly refreshTokens: RefreshTokenStore;
  /** The owners' session mirror, which is also the session directory fan-out routes by. */
  readonly mirror: SessionMirror;
  /** Where each instance announces its view for the cluster page. */
  readonly instanceDirectory: InstanceDirectory;
  /** The readiness checks of what this instance depends on, by the name /readyz shows. */
  readonly checks: Readonly<Record<string, () => Promise<HealthCheck>>>;
  /** The connections to open first and close last: the store, then Redis. The bus is started by the app, after its listeners are set. */
  readonly connections: readonly NamedService[];
}

export interface InfrastructureOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** In-memory bus only: share one broker between several apps of one process. */
  memoryBroker?: MemoryBroker;
  /** Override the store (tests). */
  store?: ChatStore;
  /** Without Redis: the in-memory session mirror shared by the apps of one `memoryBroker`. */
  sessionMirror?: SessionMirror;
}

/**
 * Picks the adapters: Kafka or the in-memory bus (KAFKA_BROKERS), PostgreSQL through
 * Prisma or the embedded PGlite (DATABASE_URL), Redis or in-memory state (REDIS_URL).
 * Each choice is made here once; nothing else in the app asks which one it got.
 */
export function createInfrastructure({
  config,
  logger,
  metrics,
  memoryBroker,
  store: givenStore,
  sessionMirror,
}: InfrastructureOptions): Infrastructure {
  const store =
    givenStore ??
    (config.databaseUrl === undefined
      ? createPgliteChatStore({ dataDir: config.dataDir, logger })
      : createPrismaChatStore({ databaseUrl: config.databaseUrl, preparedStatements: config.databasePreparedStatements }));
  const redis: Redis | undefined = config.redisUrl === undefined ? undefined : createRedisClient({ url: config.redisUrl, logger });
  const limits = {
    maxPerAccount: config.security.loginMaxFailuresPerAccount,
    maxPerIp: config.security.loginMaxFailuresPerIp,
    windowMs: config.security.loginFailureWindowMs,
  };
  const registerLimits = { max: config.security.registerMaxPerIp, windowMs: config.security.registerWindowMs };
  const searchLimits = { max: config.security.userSearchMaxPerUser, windowMs: config.security.userSearchWindowMs };
  const shared =
    redis === undefined
      ? {
          revocations: createMemoryRevocationStore(),
          loginThrottle: createMemoryLoginThrottle({ limits }),
          registrations: createMemoryRateWindow({ limits: registerLimits }),
          userSearches: createMemoryRateWindow({ limits: searchLimits }),
          // Without Redis, a Kafka cluster has no shared directory: each instance's mirror
          // knows only its own owners' sessions, so it refuses lookups (fan-out then goes
          // through the owners). The in-memory cluster shares one mirror instead.
          mirror: sessionMirror ?? createMemorySessionMirror({ ttlMs: config.chat.sessionTtlMs, directory: config.kafka === undefined }),
          instanceDirectory: createLocalInstanceDirectory(),
        }
      : {
          revocations: createRedisRevocationStore({ redis }),
          loginThrottle: createRedisLoginThrottle({ redis, limits }),
          registrations: createRedisRateWindow({ redis, limits: registerLimits, prefix: 'chat:register:ip:' }),
          userSearches: createRedisRateWindow({ redis, limits: searchLimits, prefix: 'chat:search:user:' }),
          mirror: createRedisSessionMirror({
            redis,
            ttlMs: config.chat.sessionTtlMs,
            rebuildMs: sessionMirrorRebuildMs(config.chat.sessionReannounceMs),
          }),
          instanceDirectory: createRedisInstanceDirectory({ redis }),
        };

  const busOptions = { instanceId: config.instanceId, topics: config.topics, logger, metrics };
  const bus: Bus =
    config.kafka === undefined
      ? createMemoryBus({ ...busOptions, ...(memoryBroker === undefined ? {} : { broker: memoryBroker }) })
      : createKafkaBus({ ...busOptions, ...config.kafka });

  return {
    bus,
    store,
    refreshTokens: store.refreshTokens,
    ...shared,
    checks: {
      [bus.kind === 'kafka' ? 'kafka' : 'bus']: () => bus.health(),
      [config.databaseUrl === undefined ? 'store' : 'postgres']: () => store.health(),
      [redis === undefined ? 'revocations' : 'redis']: () => shared.revocations.health(),
    },
    connections: [
      service('store', store),
      service('redis', {
        // lazyConnect: a command issued while the store started (a health probe) may have
        // begun connecting already, and connect() would then throw "already connecting".
        start: async () => {
          if (redis !== undefined && redis.status === 'wait') await redis.connect();
        },
        stop: async () => {
          if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
        },
      }),
    ],
  };
}
