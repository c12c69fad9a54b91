import { ConfigError, loadConfig, loadDatabaseConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('has working defaults: in-memory everything, both roles', () => {
    const c = loadConfig({});
    expect(c.kafka).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.roles).toEqual(['gateway', 'owner']);
    expect(c.topics).toMatchObject({ login: 'login-request', chat: 'chat-request', partitions: 12 });
    expect(c.auth.jwtSecretGenerated).toBe(true);
  });

  it('is deeply frozen', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:1,b:2' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.kafka)).toBe(true);
    expect(Object.isFrozen(c.kafka!.brokers)).toBe(true);
    expect(c.kafka!.brokers).toEqual(['a:1', 'b:2']);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', JWT_SECRET: 'short', ROLES: 'gateway,cook' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/PORT/);
      expect(issues).toMatch(/JWT_SECRET/);
      expect(issues).toMatch(/ROLES/);
    }
  });

  it('requires a JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('refuses a heartbeat too close to the session timeout', () => {
    expect(() => loadConfig({ KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '3000' })).toThrow(/HEARTBEAT/);
  });

  it('commits offsets every second by default; 0 means after every batch; refuses a negative or huge interval', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:1' }).kafka?.commitIntervalMs).toBe(1_000);
    expect(loadConfig({ KAFKA_BROKERS: 'a:1', KAFKA_COMMIT_INTERVAL_MS: '0' }).kafka?.commitIntervalMs).toBe(0);
    expect(() => loadConfig({ KAFKA_BROKERS: 'a:1', KAFKA_COMMIT_INTERVAL_MS: '-1' })).toThrow(/KAFKA_COMMIT_INTERVAL_MS/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'a:1', KAFKA_COMMIT_INTERVAL_MS: '60001' })).toThrow(/KAFKA_COMMIT_INTERVAL_MS/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'a:1', KAFKA_COMMIT_INTERVAL_MS: 'soon' })).toThrow(/KAFKA_COMMIT_INTERVAL_MS/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ KAFKA_BROKERS: '', DATABASE_URL: '' }).kafka).toBeUndefined();
  });
});

describe('loadConfig: security settings', () => {
  it('defaults: no extra origins, 20 frames/s (burst 40), 30 handshakes/min, 10 and 100 failures per 15 minutes, socket caps 10,000 / 100 per IP / 20 per user, 20 registrations per IP per hour, 60 user searches per user per minute', () => {
    expect(loadConfig({}).security).toEqual({
      wsAllowedOrigins: [],
      wsMessageRatePerSec: 20,
      wsMessageBurst: 40,
      wsHandshakesPerMinute: 30,
      corsOrigins: [],
      loginMaxFailuresPerAccount: 10,
      loginMaxFailuresPerIp: 100,
      loginFailureWindowMs: 900_000,
      maxConnections: 10_000,
      maxConnectionsPerIp: 100,
      maxConnectionsPerUser: 20,
      registerMaxPerIp: 20,
      registerWindowMs: 3_600_000,
      userSearchMaxPerUser: 60,
      userSearchWindowMs: 60_000,
    });
  });

  it('normalises origins the way browsers send them', () => {
    const c = loadConfig({
      WS_ALLOWED_ORIGINS: 'https://Chat.Example.com/, http://localhost:5173, null',
      CORS_ORIGINS: 'https://a.example:443/path',
    });
    expect(c.security.wsAllowedOrigins).toEqual(['https://chat.example.com', 'http://localhost:5173', 'null']);
    expect(c.security.corsOrigins).toEqual(['https://a.example']);
    expect(Object.isFrozen(c.security.corsOrigins)).toBe(true);
  });

  it('refuses origins that are not http(s) URLs and limits that are not positive', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ WS_ALLOWED_ORIGINS: 'ftp://x.example' })).toThrow(/WS_ALLOWED_ORIGINS/);
    expect(() => loadConfig({ WS_MSG_RATE_PER_SEC: '0' })).toThrow(/WS_MSG_RATE_PER_SEC/);
    expect(() => loadConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '0' })).toThrow(/LOGIN_MAX_FAILURES_PER_ACCOUNT/);
  });
});

describe('refresh tokens', () => {
  it('last 30 days by default, and take 60 s .. 365 days', () => {
    expect(loadConfig({}).auth.refreshTokenTtlSeconds).toBe(30 * 24 * 3600);
    expect(loadConfig({ REFRESH_TOKEN_TTL_SECONDS: '60' }).auth.refreshTokenTtlSeconds).toBe(60);
    expect(() => loadConfig({ REFRESH_TOKEN_TTL_SECONDS: '59' })).toThrow(/REFRESH_TOKEN_TTL_SECONDS/);
    expect(() => loadConfig({ REFRESH_TOKEN_TTL_SECONDS: String(365 * 24 * 3600 + 1) })).toThrow(/REFRESH_TOKEN_TTL_SECONDS/);
    expect(() => loadConfig({ USER_SEARCH_MAX_PER_WINDOW: '0' })).toThrow(/USER_SEARCH_MAX_PER_WINDOW/);
  });
});

describe('outbox and eager-load settings', () => {
  it('default to a 1 s poll growing to 8 s when idle, batches of 100 and a 5 s eager-load bound, and take overrides', () => {
    const defaults = loadConfig({});
    expect(defaults.outbox).toEqual({ pollIntervalMs: 1_000, idlePollMaxMs: 8_000, batchSize: 100 });
    expect(defaults.chat.eagerLoadTimeoutMs).toBe(5_000);
    const set = loadConfig({ OUTBOX_POLL_INTERVAL_MS: '250', OUTBOX_BATCH_SIZE: '10', OWNER_EAGER_LOAD_TIMEOUT_MS: '0' });
    expect(set.outbox).toEqual({ pollIntervalMs: 250, idlePollMaxMs: 8_000, batchSize: 10 });
    expect(set.chat.eagerLoadTimeoutMs).toBe(0);
    // An idle maximum under the poll interval is raised to it (the wait never shrinks when idle).
    expect(loadConfig({ OUTBOX_POLL_INTERVAL_MS: '20000' }).outbox.idlePollMaxMs).toBe(20_000);
    expect(loadConfig({ OUTBOX_IDLE_POLL_MAX_MS: '30000' }).outbox.idlePollMaxMs).toBe(30_000);
  });

  it('refuses a batch outside 1..1000 and a poll interval under 10 ms', () => {
    expect(() => loadConfig({ OUTBOX_BATCH_SIZE: '0' })).toThrow(/OUTBOX_BATCH_SIZE/);
    expect(() => loadConfig({ OUTBOX_BATCH_SIZE: '1001' })).toThrow(/OUTBOX_BATCH_SIZE/);
    expect(() => loadConfig({ OUTBOX_POLL_INTERVAL_MS: '5' })).toThrow(/OUTBOX_POLL_INTERVAL_MS/);
  });
});

describe('loadDatabaseConfig (node dist/migrate.js)', () => {
  it('reads only the database settings: a migration job needs no JWT_SECRET even in production', () => {
    expect(loadDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://u@db:5432/chat' })).toEqual({
      databaseUrl: 'postgresql://u@db:5432/chat',
      dataDir: 'data/pglite',
    });
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://u@db:5432/chat' })).toThrow(ConfigError);
  });

  it('validates them as the server does, and treats empty as unset', () => {
    expect(() => loadDatabaseConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(loadDatabaseConfig({ DATABASE_URL: '', DATA_DIR: 'memory://' })).toEqual({ databaseUrl: undefined, dataDir: 'memory://' });
  });
});
