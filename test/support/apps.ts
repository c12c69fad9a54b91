import { loadConfig } from '../../src/config/config';
import { createApp, type App } from '../../src/app';
import { DATABASE_URL, KAFKA_BROKERS, REDIS_URL, randomName, randomTopics, silentLogger } from './infra';
import type { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import type { ChatStore } from '../../src/ports/chat-store';
import type { SessionMirror } from '../../src/ports/session-mirror';
import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** The environment of an instance on the real infrastructure, with per-test topics. */
export function realEnv(topics: ReturnType<typeof randomTopics>, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    KAFKA_TOPIC_LOGIN: topics.login,
    KAFKA_TOPIC_CHAT: topics.chat,
    KAFKA_INBOX_PREFIX: topics.inboxPrefix,
    KAFKA_OWNER_GROUP: topics.ownerGroup,
    KAFKA_TOPIC_BROADCAST: topics.broadcast,
    KAFKA_PARTITIONS: String(topics.partitions),
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    KAFKA_REBALANCE_TIMEOUT_MS: '10000',
    DATABASE_URL,
    REDIS_URL,
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_COST: '4',
    // Every test client connects from 127.0.0.1: per-IP limits would couple unrelated tests
    // (and CI runs, through Redis). The limits have their own tests with their own settings.
    WS_HANDSHAKES_PER_MIN: '100000',
    WS_MAX_CONNECTIONS_PER_IP: '100000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    REGISTER_MAX_PER_IP: '100000',
    ...extra,
  };
}

/** Starts an in-process app on the real infrastructure. */
export async function startRealApp(topics: ReturnType<typeof randomTopics>, extra: Record<string, string> = {}): Promise<App> {
  const config = loadConfig(realEnv(topics, { INSTANCE_ID: randomName('app'), ...extra }));
  const app = createApp({ config, logger: silentLogger() });
  await app.start();
  return app;
}

/**
 * The environment of an instance on the in-memory bus (no Kafka): in-memory store, sessions
 * and revocations unless `extra` sets DATABASE_URL or REDIS_URL.
 */
export function memoryEnv(extra: Record<string, string> = {}): Record<string, string> {
  // DATA_DIR memory://: without DATABASE_URL the default store is the embedded PGlite, kept in memory here.
  // Every test client registers from 127.0.0.1: the registration throttle has its own tests.
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_COST: '4',
    INSTANCE_ID: randomName('mem'),
    DATA_DIR: 'memory://',
    REGISTER_MAX_PER_IP: '100000',
    ...extra,
  };
}

const mirrors = new WeakMap<MemoryBroker, SessionMirror>();

/**
 * Starts an in-process app on the in-memory bus. Apps given the same `memoryBroker` behave
 * as instances of one cluster (one owner group, inboxes, broadcasts); give them the same
 * `store` too, or real PostgreSQL through DATABASE_URL, so they see the same data.
 */
export async function startMemoryApp({
  env = {},
  memoryBroker,
  store,
  now,
}: {
  env?: Record<string, string>;
  memoryBroker?: MemoryBroker;
  store?: ChatStore;
  /** The gateway's rate-limit clock. */ now?: () => number;
} = {}): Promise<App> {
  const config = loadConfig(memoryEnv(env));
  // One session directory per in-memory cluster, as Kafka instances share Redis.
  let sessionMirror: SessionMirror | undefined;
  if (memoryBroker !== undefined && config.redisUrl === undefined) {
    sessionMirror = mirrors.get(memoryBroker) ?? createMemorySessionMirror({ ttlMs: config.chat.sessionTtlMs });
    mirrors.set(memoryBroker, sessionMirror);
  }
  const app = createApp({
    config,
    logger: silentLogger(),
    ...(memoryBroker === undefined ? {} : { memoryBroker }),
    ...(store === undefined ? {} : { store }),
    ...(sessionMirror === undefined ? {} : { sessionMirror }),
    ...(now === undefined ? {} : { now }),
  });
  await app.start();
  return app;
}
