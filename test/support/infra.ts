import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import pino from 'pino';
import type { Logger } from '../../src/observability/logger';
import type { TopicsConfig } from '../../src/protocol/topics';

/**
 * Where the real infrastructure is, for tests that claim Kafka, PostgreSQL or Redis
 * behaviour. `npm test` brings it up first (scripts/infra/infra.sh up). When it cannot be
 * reached, the `require*` helpers throw: such a test fails loudly, it never skips.
 */
export const KAFKA_BROKERS = (process.env['TEST_KAFKA_BROKERS'] ?? '127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094').split(',');
export const DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/chat_test';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';

const hint = 'start it with `npm run infra:up` (npm test does this itself)';

export async function requireKafka(): Promise<void> {
  const admin = new Kafka({
    clientId: 'test-probe',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    connectionTimeout: 2_000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length < 3) throw new Error(`only ${cluster.brokers.length} of 3 brokers are up`);
  } catch (error) {
    throw new Error(`Kafka is required at ${KAFKA_BROKERS.join(',')} and is not usable (${String(error)}); ${hint}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function requirePostgres(url = DATABASE_URL): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1 FROM users LIMIT 1');
  } catch (error) {
    throw new Error(`PostgreSQL with migrations applied is required at ${url} (${String(error)}); ${hint}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function requireRedis(url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is required at ${url} (${String(error)}); ${hint}`);
  } finally {
    redis.disconnect();
  }
}

/** A name no other test (or earlier run) uses: topics and groups are per test. */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export type TestTopics = TopicsConfig;

export function randomTopics(partitions = 12): TestTopics {
  const run = randomName('t');
  return {
    login: `${run}.login-request`,
    chat: `${run}.chat-request`,
    inboxPrefix: `${run}.inbox`,
    ownerGroup: `${run}.owners`,
    broadcast: `${run}.broadcast`,
    partitions,
  };
}

/**
 * Deletes every topic whose name starts with `prefix` (test clean-up). A topic already gone
 * is fine: instances delete their own inbox when they stop, and a broker whose metadata lags
 * may still list it.
 */
export async function deleteTopics(prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'test-cleanup', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    for (const topic of topics) {
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch((error: unknown) => {
        const types = [error, (error as { cause?: unknown }).cause].map((e) => (e as { type?: unknown } | undefined)?.type);
        if (!types.includes('UNKNOWN_TOPIC_OR_PARTITION')) throw error;
      });
    }
  } finally {
    await admin.disconnect();
  }
}

export const silentLogger = (): Logger => pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Marks the shared Redis as having held the session directory for long, so instances trust
 * the directory at once: a Redis new or emptied minutes ago is not trusted for
 * 2 × SESSION_REANNOUNCE_MS, and fan-out would go through the owners meanwhile (the fault
 * tests cover that path).
 */
export async function trustSessionDirectory(): Promise<void> {
  const probe = new Redis(REDIS_URL);
  try {
    await probe.set('chat:sessions:@since', '0');
  } finally {
    probe.disconnect();
  }
}
