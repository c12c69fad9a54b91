import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { TopicsConfig } from '../protocol/topics';
import { MAX_SNAPSHOT_USERS } from '../protocol/frames';
import { DEFAULT_TRUST_PROXY, parseTrustProxy, type TrustProxy } from './trust-proxy';

/**
 * The one place that reads the environment. `loadConfig` parses and validates it once at
 * start and returns a deeply frozen object; every other module takes what it needs from
 * that object, so a typo in a variable fails the start, not the first request.
 */

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
/** A browser origin (`https://host[:port]`), normalised the way browsers send it. */
const httpOrigin = z.url({ protocol: /^https?$/ }).transform((u) => new URL(u).origin);
/** TRUST_PROXY (config/trust-proxy.ts): a hop count or a list of addresses and CIDR blocks. */
const trustProxy = z
  .string()
  .default(DEFAULT_TRUST_PROXY)
  .transform((text, ctx): TrustProxy => {
    const parsed = parseTrustProxy(text);
    if (parsed.ok) return parsed.value;
    for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  });
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(3000, 0, 65535),
  // Who may name the client in X-Forwarded-For: per-IP limits count by the result.
  TRUST_PROXY: trustProxy,
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - only')
    .optional(),
  ROLES: csv.pipe(z.array(z.enum(['gateway', 'owner'])).min(1)).default(['gateway', 'owner']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  KAFKA_BROKERS: csv.optional(),
  KAFKA_CLIENT_ID: z.string().default('keyed-chat'),
  KAFKA_TOPIC_LOGIN: z.string().default('login-request'),
  KAFKA_TOPIC_CHAT: z.string().default('chat-request'),
  KAFKA_INBOX_PREFIX: z.string().default('gateway-inbox'),
  KAFKA_OWNER_GROUP: z.string().default('chat-owners'),
  KAFKA_TOPIC_BROADCAST: z.string().default('chat-broadcast'),
  KAFKA_PARTITIONS: int(12, 1, 10_000),
  KAFKA_REPLICATION_FACTOR: int(3, 1, 16),
  KAFKA_SESSION_TIMEOUT_MS: int(30_000, 1_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(3_000, 100),
  KAFKA_REBALANCE_TIMEOUT_MS: int(60_000, 1_000),
  KAFKA_PRODUCE_TIMEOUT_MS: int(10_000, 500, 120_000),
  KAFKA_FETCH_MIN_BYTES: int(1, 1, 10_485_760),
  // 3 s (the heartbeat interval), not kafkajs's 5 s or our former 1 s and 250 ms: with
  // minBytes 1 a fetch answers as soon as a record is there, so the wait only sets how often
  // an idle consumer asks each broker (idle CPU: 1 s was half of an idle instance's), how
  // soon it heartbeats, and how long a rebalance or a stop waits for the fetch in flight.
  // Heartbeats go every heartbeat interval whatever the wait, and a rebalance measured no
  // slower at 3 s than at 1 s (docs/benchmarks.md, "idle instance"). The bus caps it at the
  // heartbeat interval.
  KAFKA_FETCH_MAX_WAIT_MS: int(3_000, 1, 5_000),
  // 0: commit at the end of every batch, on the fetch path (the behaviour before 2026-11).
  KAFKA_COMMIT_INTERVAL_MS: int(1_000, 0, 60_000),
  // Inbox topic lifecycle (docs/operations.md, "Inbox topics"): an instance deletes its own
  // inbox after a graceful stop, and a janitor deletes the inboxes of instances gone for
  // longer than the retention; every deletion is announced first (inbox-notices.ts).
  INBOX_DELETE_ON_STOP: z.enum(['true', 'false']).default('true'),
  // Kafka over TLS and SASL (managed Kafka: Confluent Cloud, MSK, Aiven, Redpanda Cloud).
  // TLS is on when KAFKA_SSL=true or a CA or client certificate file is given; the system's
  // CAs are trusted unless KAFKA_SSL_CA_FILE names others.
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  INBOX_RETENTION_MS: int(3_600_000, 1_000),
  // 0: no janitor on this instance.
  INBOX_JANITOR_INTERVAL_MS: int(300_000, 0, 24 * 3_600_000),

  DATABASE_URL: z.string().url().optional(),
  // The hot statements (the message append, the login's refresh token) as named prepared
  // statements on each pooled connection; 'false' behind a pooler in transaction mode that
  // cannot keep them (PgBouncer before 1.21, or without max_prepared_statements).
  DATABASE_PREPARED_STATEMENTS: z.enum(['true', 'false']).default('true'),
  // Without DATABASE_URL: the embedded PostgreSQL's directory; `memory://` keeps nothing.
  DATA_DIR: z.string().min(1).default('data/pglite'),
  REDIS_URL: z.string().url().optional(),

  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().default('keyed-chat'),
  JWT_AUDIENCE: z.string().default('keyed-chat-clients'),
  JWT_TTL_SECONDS: int(3600, 10, 7 * 24 * 3600),
  // Each refresh token's lifetime (a refresh hands out a new one with a new lifetime), so
  // a session that is used at least this often lasts (docs/security.md, "Refresh tokens").
  REFRESH_TOKEN_TTL_SECONDS: int(30 * 24 * 3600, 60, 365 * 24 * 3600),
  BCRYPT_COST: int(10, 4, 15),
  REQUEST_TIMEOUT_MS: int(5_000, 100, 120_000),
  HTTP_BODY_LIMIT_BYTES: int(16 * 1024, 256, 1024 * 1024),
  READY_CHECK_TIMEOUT_MS: int(2_000, 100),
  SHUTDOWN_GRACE_MS: int(10_000, 0),
  ADMIN_USER_IDS: csv.default([]),
  SESSION_REANNOUNCE_MS: int(30_000, 100),
  SESSION_TTL_MS: int(90_000, 300),
  // The most co-members one presence.snapshot lists (docs/architecture.md, "Presence snapshot").
  PRESENCE_SNAPSHOT_MAX_USERS: int(1_000, 0, MAX_SNAPSHOT_USERS),
  SEND_RATE_PER_SEC: z.coerce.number().positive().default(10),
  SEND_BURST: int(30, 1, 10_000),
  WS_MAX_PAYLOAD_BYTES: int(64 * 1024, 256, 64 * 1024),
  RESUME_MAX_MESSAGES: int(1_000, 1, 100_000),
  // Read receipts go to the other members only in rooms of at most this many members
  // (docs/architecture.md, "Read cursors and receipts"); 0 sends none at all.
  RECEIPTS_MAX_ROOM_MEMBERS: int(50, 0, 100_000),
  // The outbox relay (docs/architecture.md, "Outbox"): a pass per interval, sooner when nudged;
  // empty looks in a row double the wait, up to the idle maximum.
  OUTBOX_POLL_INTERVAL_MS: int(1_000, 10, 60_000),
  OUTBOX_IDLE_POLL_MAX_MS: int(8_000, 10, 300_000),
  OUTBOX_BATCH_SIZE: int(100, 1, 1_000),
  // How long a newly assigned partition's records wait for its users' state to load eagerly.
  OWNER_EAGER_LOAD_TIMEOUT_MS: int(5_000, 0, 120_000),

  // Security limits (docs/security.md).
  WS_ALLOWED_ORIGINS: csv.pipe(z.array(z.union([z.literal('null'), httpOrigin]))).default([]),
  WS_MSG_RATE_PER_SEC: z.coerce.number().positive().default(20),
  WS_MSG_BURST: int(40, 1, 100_000),
  WS_HANDSHAKES_PER_MIN: int(30, 1, 1_000_000),
  WS_MAX_CONNECTIONS: int(10_000, 1, 1_000_000),
  WS_MAX_CONNECTIONS_PER_IP: int(100, 1, 1_000_000),
  WS_MAX_CONNECTIONS_PER_USER: int(20, 1, 10_000),
  CORS_ORIGINS: csv.pipe(z.array(httpOrigin)).default([]),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(10, 1, 1_000_000),
  LOGIN_MAX_FAILURES_PER_IP: int(100, 1, 1_000_000),
  LOGIN_FAILURE_WINDOW_SECONDS: int(900, 1, 7 * 24 * 3600),
  REGISTER_MAX_PER_IP: int(20, 1, 1_000_000),
  REGISTER_WINDOW_SECONDS: int(3600, 1, 7 * 24 * 3600),
  USER_SEARCH_MAX_PER_WINDOW: int(60, 1, 1_000_000),
  USER_SEARCH_WINDOW_SECONDS: int(60, 1, 24 * 3600),
});

export type Role = 'gateway' | 'owner';

export interface KafkaTls {
  /** CA certificates (PEM) to trust instead of the system's; undefined: the system's. */
  readonly ca: string | undefined;
  /** A client certificate and its key (PEM), for brokers that ask for one (mTLS). */
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export interface KafkaSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly instanceId: string;
  readonly roles: readonly Role[];
  readonly logLevel: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** Which peers' X-Forwarded-For names the client (per-IP limits); default: loopback only. */
    readonly trustProxy: TrustProxy;
  };
  /** Absent: the in-memory bus (one process, nothing to install). */
  readonly kafka:
    | {
        readonly brokers: readonly string[];
        readonly clientId: string;
        readonly sessionTimeoutMs: number;
        readonly heartbeatIntervalMs: number;
        readonly rebalanceTimeoutMs: number;
        readonly replicationFactor: number;
        /** Longest wait for a produce to be acknowledged; then a retriable error (UNAVAILABLE or TIMEOUT). */
        readonly produceTimeoutMs: number;
        /**
         * A fetch returns once this many bytes are there, or after fetchMaxWaitMs. 1 (the
         * default) answers at once, lowest latency; larger values trade up to
         * fetchMaxWaitMs per hop for fewer fetch requests under load (see docs/benchmarks.md).
         * fetchMaxWaitMs (default 3 s, at most the heartbeat interval) is how often an idle
         * consumer fetches from each broker.
         */
        readonly fetchMinBytes: number;
        readonly fetchMaxWaitMs: number;
        /**
         * How long a handled record's offset may wait to be committed, per consumer. Commits
         * are always made on a rebalance and on a graceful stop, so only a crash redoes up
         * to this much (with the same ids). 0 commits after every batch, inside the fetch loop.
         */
        readonly commitIntervalMs: number;
        /** Delete this instance's inbox topic and group after a graceful stop (INBOX_DELETE_ON_STOP). */
        readonly deleteInboxOnStop: boolean;
        /** TLS to the brokers (PEM contents read at start), or undefined for plaintext. */
        readonly ssl: KafkaTls | undefined;
        /** SASL credentials, or undefined for none. Never logged (see observability/logger.ts). */
        readonly sasl: KafkaSasl | undefined;
      }
    | undefined;
  /**
   * The inbox janitor: every `intervalMs` (0: off) it deletes the inbox topics of instances
   * that have not announced themselves for `retentionMs`. Never one whose instance is live.
   */
  readonly inboxJanitor: { readonly intervalMs: number; readonly retentionMs: number };
  readonly topics: TopicsConfig;
  readonly chat: {
    readonly adminUserIds: readonly string[];
    /** How often a gateway re-announces its live sessions to their owners. */
    readonly sessionReannounceMs: number;
    /** A session not announced for this long is considered gone (its instance died). */
    readonly sessionTtlMs: number;
    /** The most co-members a presence.snapshot lists (the first ones by userId); 0 sends an empty one. */
    readonly presenceSnapshotMaxUsers: number;
    readonly sendRatePerSec: number;
    readonly sendBurst: number;
    readonly wsMaxPayloadBytes: number;
    readonly resumeMaxMessages: number;
    /** Rooms with more members than this get no read receipts (the reader's own sockets and cursor still do). */
    readonly receiptsMaxRoomMembers: number;
    /** After this, an assigned partition's records are handled and its users load lazily (0: never eager). */
    readonly eagerLoadTimeoutMs: number;
  };
  readonly outbox: {
    /** The wait after a pass that found rows, and after the first empty one (a REST change nudges the relay of its own instance at once). */
    readonly pollIntervalMs: number;
    /** Empty looks in a row double the wait up to this: an idle cluster looks seldom. At least pollIntervalMs (a smaller setting is raised to it). */
    readonly idlePollMaxMs: number;
    /** Rows per pass; a full pass is followed by another at once. */
    readonly batchSize: number;
  };
  /** Absent: the embedded PostgreSQL (PGlite) in this process, under dataDir. */
  readonly databaseUrl: string | undefined;
  /** The hot statements as named prepared statements (with databaseUrl; DATABASE_PREPARED_STATEMENTS). */
  readonly databasePreparedStatements: boolean;
  /** Where the embedded PostgreSQL (PGlite) keeps its files when databaseUrl is absent; `memory://` keeps nothing. */
  readonly dataDir: string;
  /** Absent: in-memory revocations and mirrors (single process only). */
  readonly redisUrl: string | undefined;
  readonly auth: {
    readonly jwtSecret: string;
    /** True when the secret was generated for this process: tokens won't work on other instances. */
    readonly jwtSecretGenerated: boolean;
    readonly issuer: string;
    readonly audience: string;
    readonly tokenTtlSeconds: number;
    /** Lifetime of each refresh token (REFRESH_TOKEN_TTL_SECONDS). */
    readonly refreshTokenTtlSeconds: number;
    readonly bcryptCost: number;
  };
  readonly requestTimeoutMs: number;
  readonly readyCheckTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** Abuse limits and browser policies (docs/security.md). */
  readonly security: {
    /** Browser origins allowed to open a WebSocket besides same-origin pages (and clients that send no Origin). */
    readonly wsAllowedOrigins: readonly string[];
    /** Per-connection frame rate; a socket over it is closed with 4008. */
    readonly wsMessageRatePerSec: number;
    readonly wsMessageBurst: number;
    /** WebSocket handshakes per client IP per minute, counted per instance; over it: 429. */
    readonly wsHandshakesPerMinute: number;
    /** Sockets (WebSocket and SSE) one instance holds at most, and one client IP on one instance: over them, refused before the upgrade. */
    readonly maxConnections: number;
    readonly maxConnectionsPerIp: number;
    /** Sockets one user holds on all instances together, counted by the user's owner: over it, the new socket is closed with 4008. */
    readonly maxConnectionsPerUser: number;
    /** Origins allowed by CORS on the REST API; none by default. */
    readonly corsOrigins: readonly string[];
    /** Failed logins allowed per account and per client IP in one window, shared through Redis. */
    readonly loginMaxFailuresPerAccount: number;
    readonly loginMaxFailuresPerIp: number;
    readonly loginFailureWindowMs: number;
    /** Registrations one client IP may make in one window, shared through Redis. */
    readonly registerMaxPerIp: number;
    readonly registerWindowMs: number;
    /** User searches (GET /api/users) one user may make in one window, shared through Redis. */
    readonly userSearchMaxPerUser: number;
    readonly userSearchWindowMs: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parses, validates and freezes the configuration. Throws ConfigError listing every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // Empty strings mean "unset" (a common shape of .env files and shell exports).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && e.JWT_SECRET === undefined) {
    throw new ConfigError(['JWT_SECRET: required when NODE_ENV=production']);
  }
  if (e.KAFKA_BROKERS !== undefined && e.KAFKA_BROKERS.length === 0) {
    throw new ConfigError(['KAFKA_BROKERS: no broker listed']);
  }
  if (e.SESSION_REANNOUNCE_MS * 2 > e.SESSION_TTL_MS) {
    throw new ConfigError(['SESSION_REANNOUNCE_MS: must be at most half of SESSION_TTL_MS']);
  }
  if (e.INBOX_RETENTION_MS < e.SESSION_TTL_MS) {
    // A gone instance's sessions must have expired from the directory before its inbox goes.
    throw new ConfigError(['INBOX_RETENTION_MS: must be at least SESSION_TTL_MS']);
  }
  if (e.KAFKA_HEARTBEAT_INTERVAL_MS * 3 > e.KAFKA_SESSION_TIMEOUT_MS) {
    throw new ConfigError(['KAFKA_HEARTBEAT_INTERVAL_MS: must be at most a third of KAFKA_SESSION_TIMEOUT_MS']);
  }
  const config: Config = {
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${e.PORT}`,
    roles: e.ROLES,
    logLevel: e.LOG_LEVEL,
    http: { host: e.HOST, port: e.PORT, bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES, trustProxy: e.TRUST_PROXY },
    kafka:
      e.KAFKA_BROKERS === undefined
        ? undefined
        : {
            brokers: e.KAFKA_BROKERS,
            clientId: e.KAFKA_CLIENT_ID,
            sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
            heartbeatIntervalMs: e.KAFKA_HEARTBEAT_INTERVAL_MS,
            rebalanceTimeoutMs: e.KAFKA_REBALANCE_TIMEOUT_MS,
            replicationFactor: e.KAFKA_REPLICATION_FACTOR,
            produceTimeoutMs: e.KAFKA_PRODUCE_TIMEOUT_MS,
            fetchMinBytes: e.KAFKA_FETCH_MIN_BYTES,
            fetchMaxWaitMs: e.KAFKA_FETCH_MAX_WAIT_MS,
            commitIntervalMs: e.KAFKA_COMMIT_INTERVAL_MS,
            deleteInboxOnStop: e.INBOX_DELETE_ON_STOP === 'true',
            ssl: kafkaTls(e),
            sasl: kafkaSasl(e),
          },
    inboxJanitor: { intervalMs: e.INBOX_JANITOR_INTERVAL_MS, retentionMs: e.INBOX_RETENTION_MS },
    topics: {
      login: e.KAFKA_TOPIC_LOGIN,
      chat: e.KAFKA_TOPIC_CHAT,
      inboxPrefix: e.KAFKA_INBOX_PREFIX,
      ownerGroup: e.KAFKA_OWNER_GROUP,
      broadcast: e.KAFKA_TOPIC_BROADCAST,
      partitions: e.KAFKA_PARTITIONS,
    },
    chat: {
      adminUserIds: e.ADMIN_USER_IDS,
      sessionReannounceMs: e.SESSION_REANNOUNCE_MS,
      sessionTtlMs: e.SESSION_TTL_MS,
      presenceSnapshotMaxUsers: e.PRESENCE_SNAPSHOT_MAX_USERS,
      sendRatePerSec: e.SEND_RATE_PER_SEC,
      sendBurst: e.SEND_BURST,
      wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      resumeMaxMessages: e.RESUME_MAX_MESSAGES,
      receiptsMaxRoomMembers: e.RECEIPTS_MAX_ROOM_MEMBERS,
      eagerLoadTimeoutMs: e.OWNER_EAGER_LOAD_TIMEOUT_MS,
    },
    outbox: {
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      idlePollMaxMs: Math.max(e.OUTBOX_IDLE_POLL_MAX_MS, e.OUTBOX_POLL_INTERVAL_MS),
      batchSize: e.OUTBOX_BATCH_SIZE,
    },
    databaseUrl: e.DATABASE_URL,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS === 'true',
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    auth: {
      jwtSecret: e.JWT_SECRET ?? randomBytes(32).toString('base64url'),
      jwtSecretGenerated: e.JWT_SECRET === undefined,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      tokenTtlSeconds: e.JWT_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      bcryptCost: e.BCRYPT_COST,
    },
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    readyCheckTimeoutMs: e.READY_CHECK_TIMEOUT_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    security: {
      wsAllowedOrigins: e.WS_ALLOWED_ORIGINS,
      wsMessageRatePerSec: e.WS_MSG_RATE_PER_SEC,
      wsMessageBurst: e.WS_MSG_BURST,
      wsHandshakesPerMinute: e.WS_HANDSHAKES_PER_MIN,
      maxConnections: e.WS_MAX_CONNECTIONS,
      maxConnectionsPerIp: e.WS_MAX_CONNECTIONS_PER_IP,
      maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
      corsOrigins: e.CORS_ORIGINS,
      loginMaxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      loginMaxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      loginFailureWindowMs: e.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
      registerMaxPerIp: e.REGISTER_MAX_PER_IP,
      registerWindowMs: e.REGISTER_WINDOW_SECONDS * 1000,
      userSearchMaxPerUser: e.USER_SEARCH_MAX_PER_WINDOW,
      userSearchWindowMs: e.USER_SEARCH_WINDOW_SECONDS * 1000,
    },
  };
  return deepFreeze(config);
}

/** What the migration command (`node dist/migrate.js`) needs: where the database is. */
export interface DatabaseConfig {
  /** Absent: the embedded PostgreSQL (PGlite) under dataDir, as the server would use it. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

/**
 * The database settings alone, validated as loadConfig validates them. The migration
 * command runs as a one-off job (a release step, an init container) that has the
 * database's settings but need not have the server's secrets, so it must not fail on
 * JWT_SECRET and the like.
 */
export function loadDatabaseConfig(env: Readonly<Record<string, string | undefined>> = process.env): DatabaseConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.pick({ DATABASE_URL: true, DATA_DIR: true }).safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return deepFreeze({ databaseUrl: parsed.data.DATABASE_URL, dataDir: parsed.data.DATA_DIR });
}

/** Every variable the config module reads: the README's table is checked against it (test/unit/readme-config). */
export const configVariables: readonly string[] = Object.keys(EnvSchema.shape);

/** What each variable is when unset (undefined: no default), for the same check. */
export function configDefaults(): Readonly<Record<string, unknown>> {
  return EnvSchema.parse({});
}

type Env = z.infer<typeof EnvSchema>;

/** A PEM file named by a setting, read once at start; a clear error when it cannot be. */
function readPem(variable: string, path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return text;
  } catch (error) {
    throw new ConfigError([`${variable}: cannot read ${path} (${error instanceof Error ? error.message : String(error)})`]);
  }
}

function kafkaTls(e: Env): KafkaTls | undefined {
  const wanted = e.KAFKA_SSL === 'true' || e.KAFKA_SSL_CA_FILE !== undefined || e.KAFKA_SSL_CERT_FILE !== undefined;
  if (!wanted) return undefined;
  if ((e.KAFKA_SSL_CERT_FILE === undefined) !== (e.KAFKA_SSL_KEY_FILE === undefined)) {
    throw new ConfigError(['KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: give both (a client certificate and its key) or neither']);
  }
  return {
    ca: e.KAFKA_SSL_CA_FILE === undefined ? undefined : readPem('KAFKA_SSL_CA_FILE', e.KAFKA_SSL_CA_FILE),
    cert: e.KAFKA_SSL_CERT_FILE === undefined ? undefined : readPem('KAFKA_SSL_CERT_FILE', e.KAFKA_SSL_CERT_FILE),
    key: e.KAFKA_SSL_KEY_FILE === undefined ? undefined : readPem('KAFKA_SSL_KEY_FILE', e.KAFKA_SSL_KEY_FILE),
    rejectUnauthorized: e.KAFKA_SSL_REJECT_UNAUTHORIZED === 'true',
  };
}

function kafkaSasl(e: Env): KafkaSasl | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = e;
  if (mechanism === undefined) {
    if (username !== undefined || password !== undefined)
      throw new ConfigError([
        'KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (plain, scram-sha-256 or scram-sha-512)',
      ]);
    return undefined;
  }
  if (username === undefined || password === undefined) {
    throw new ConfigError([`KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=${mechanism}`]);
  }
  return { mechanism, username, password };
}
