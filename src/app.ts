import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from './config/config';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import type { Bus } from './ports/bus';
import type { ChatStore } from './ports/chat-store';
import type { RevocationStore } from './ports/revocation-store';
import type { Service } from './ports/service';
import { createKafkaBus } from './adapters/kafka/kafka-bus';
import { createMemoryBus } from './adapters/memory/memory-bus';
import type { MemoryBroker } from './adapters/memory/memory-broker';
import { createPgliteChatStore } from './adapters/pglite/pglite-chat-store';
import { createMemoryRevocationStore } from './adapters/memory/memory-revocation-store';
import { createMemoryLoginThrottle } from './adapters/memory/memory-login-throttle';
import { createRedisLoginThrottle } from './adapters/redis/redis-login-throttle';
import type { LoginThrottle } from './ports/login-throttle';
import { createPrismaChatStore } from './adapters/prisma/prisma-chat-store';
import { createRedisClient } from './adapters/redis/redis-client';
import { createRedisRevocationStore } from './adapters/redis/redis-revocation-store';
import { createRedisSessionMirror } from './adapters/redis/redis-session-mirror';
import { createMemorySessionMirror } from './adapters/memory/memory-session-mirror';
import type { SessionMirror } from './ports/session-mirror';
import { createPasswordHasher } from './auth/password-hasher';
import { createPasswordSealer } from './auth/password-sealer';
import { createTokenService } from './auth/token-service';
import { createOwnerService, type OwnerService } from './owner/owner-service';
import { createOutboxRelay, type OutboxRelay } from './relay/outbox-relay';
import { createRequestReply } from './gateway/request-reply';
import { createHttpApp } from './gateway/http/http-app';
import { createAuthRoutes } from './gateway/http/auth-routes';
import { createHealthRoutes } from './gateway/http/health-routes';
import { createOpenApiRoutes } from './gateway/http/openapi-routes';
import { createWebRoutes } from './gateway/http/web-routes';
import { createRoomRoutes } from './gateway/http/room-routes';
import { createStreamRoutes } from './gateway/http/stream-routes';
import { createAdminRoutes } from './gateway/http/admin-routes';
import { createClusterView } from './gateway/cluster-view';
import { createLocalInstanceDirectory } from './adapters/memory/local-instance-directory';
import { createRedisInstanceDirectory } from './adapters/redis/redis-instance-directory';
import { ConnectionRegistry } from './gateway/connection-registry';
import { createConnectionLifecycle } from './gateway/connection-lifecycle';
import { createSessionAnnouncer } from './gateway/session-announcer';
import { createFrameHandler } from './gateway/frame-handler';
import { createWsGateway } from './gateway/ws/ws-gateway';
import { createClientIpResolver } from './gateway/client-ip';
import { makeRecord, type RelayPart } from './protocol/envelope';
import { CloseCodes } from './protocol/close-codes';
import { assertNever } from './domain/assert-never';

export interface AppOptions {
  config: Config;
  /** Default: JSON logs to stdout at config.logLevel. */
  logger?: Logger;
  /** In-memory bus only: share one broker between several apps of one process. */
  memoryBroker?: MemoryBroker;
  /** Override the store (tests). Default: Prisma on DATABASE_URL when set, else on the embedded PGlite under DATA_DIR. */
  store?: ChatStore;
  /**
   * Without Redis: share one in-memory session mirror between the apps of one `memoryBroker`.
   * It is the session directory every owner routes deliveries by (owner/fan-out.ts), so the
   * instances of one in-memory cluster must share it, as Kafka instances share Redis.
   */
  sessionMirror?: SessionMirror;
}

export interface App extends Service {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly bus: Bus;
  readonly store: ChatStore;
  readonly owner: OwnerService | undefined;
  /** Produces what REST changes wrote to the outbox (runs on every instance). */
  readonly outboxRelay: OutboxRelay;
  readonly connections: ConnectionRegistry;
  readonly http: Express;
  readonly server: Server;
  /** http://host:port once started (the real port when config asked for 0). */
  url(): string;
}

/**
 * Wires one instance from its configuration. Nothing here has behaviour of its own: it
 * picks adapters, hands each part what it needs, and fixes the start and stop order.
 */
export function createApp({ config, logger: given, memoryBroker, store: givenStore, sessionMirror }: AppOptions): App {
  const logger = given ?? createLogger({ level: config.logLevel, instanceId: config.instanceId });
  const metrics = createMetrics();
  const runsGateway = config.roles.includes('gateway');
  const runsOwner = config.roles.includes('owner');

  const store =
    givenStore ??
    (config.databaseUrl === undefined
      ? createPgliteChatStore({ dataDir: config.dataDir, logger })
      : createPrismaChatStore({ databaseUrl: config.databaseUrl }));
  const redis: Redis | undefined = config.redisUrl === undefined ? undefined : createRedisClient({ url: config.redisUrl, logger });
  const revocations: RevocationStore = redis === undefined ? createMemoryRevocationStore() : createRedisRevocationStore({ redis });
  const throttleLimits = {
    maxPerAccount: config.security.loginMaxFailuresPerAccount,
    maxPerIp: config.security.loginMaxFailuresPerIp,
    windowMs: config.security.loginFailureWindowMs,
  };
  const loginThrottle: LoginThrottle =
    redis === undefined ? createMemoryLoginThrottle({ limits: throttleLimits }) : createRedisLoginThrottle({ redis, limits: throttleLimits });
  const mirror: SessionMirror =
    redis === undefined
      ? // Without Redis, a Kafka cluster has no shared directory: each instance sees only its own owners' sessions.
        (sessionMirror ?? createMemorySessionMirror({ ttlMs: config.chat.sessionTtlMs, directory: config.kafka === undefined }))
      : createRedisSessionMirror({ redis, ttlMs: config.chat.sessionTtlMs, rebuildMs: 2 * config.chat.sessionReannounceMs });

  const busOptions = { instanceId: config.instanceId, topics: config.topics, logger, metrics };
  const bus: Bus =
    config.kafka === undefined
      ? createMemoryBus({ ...busOptions, ...(memoryBroker === undefined ? {} : { broker: memoryBroker }) })
      : createKafkaBus({
          ...busOptions,
          brokers: config.kafka.brokers,
          clientId: config.kafka.clientId,
          replicationFactor: config.kafka.replicationFactor,
          sessionTimeoutMs: config.kafka.sessionTimeoutMs,
          heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
          rebalanceTimeoutMs: config.kafka.rebalanceTimeoutMs,
          produceTimeoutMs: config.kafka.produceTimeoutMs,
          fetchMinBytes: config.kafka.fetchMinBytes,
          fetchMaxWaitMs: config.kafka.fetchMaxWaitMs,
          commitIntervalMs: config.kafka.commitIntervalMs,
        });

  const hasher = createPasswordHasher({ cost: config.auth.bcryptCost });
  const sealer = createPasswordSealer({ secret: config.auth.jwtSecret });
  const tokens = createTokenService({
    secret: config.auth.jwtSecret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ttlSeconds: config.auth.tokenTtlSeconds,
  });

  if (runsOwner) metrics.requestPartitions.set(config.topics.partitions);
  const owner = runsOwner
    ? createOwnerService({
        instanceId: config.instanceId,
        bus,
        store,
        mirror,
        hasher,
        sealer,
        chatTopic: config.topics.chat,
        limits: { sendRatePerSec: config.chat.sendRatePerSec, sendBurst: config.chat.sendBurst, sessionTtlMs: config.chat.sessionTtlMs },
        eagerLoadTimeoutMs: config.chat.eagerLoadTimeoutMs,
        logger,
        metrics,
        now: Date.now,
      })
    : undefined;
  if (owner !== undefined) bus.joinOwnerGroup(owner.listener);

  // Every instance relays the outbox (row locks keep the relays apart), so a change is
  // produced even when the instance that committed it died right after the commit.
  const outboxRelay = createOutboxRelay({
    outbox: store.outbox,
    bus,
    topics: config.topics,
    batchSize: config.outbox.batchSize,
    pollIntervalMs: config.outbox.pollIntervalMs,
    logger,
    metrics,
  });

  const requestReply = createRequestReply({ bus, replyTopic: bus.inboxTopicOf(config.instanceId), timeoutMs: config.requestTimeoutMs, metrics });
  const registry = new ConnectionRegistry(metrics);
  const listeningUrl = (): string => {
    const address = server.address() as AddressInfo | null;
    const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
    return `http://${host}:${address?.port ?? config.http.port}`;
  };
  // The cluster view (GET /api/admin/cluster, /admin): each instance announces its own, to
  // Redis when there is one (so every instance can show all), else to itself only.
  const cluster = createClusterView({
    instanceId: config.instanceId,
    url: listeningUrl,
    roles: config.roles,
    partitions: config.topics.partitions,
    bus,
    ownedUserCount: owner === undefined ? undefined : () => owner.users.userCount(),
    registry,
    metrics,
    directory: redis === undefined ? createLocalInstanceDirectory() : createRedisInstanceDirectory({ redis }),
    logger,
  });
  const announcer = createSessionAnnouncer({
    bus,
    chatTopic: config.topics.chat,
    instanceId: config.instanceId,
    registry,
    intervalMs: config.chat.sessionReannounceMs,
    logger,
  });
  const lifecycle = createConnectionLifecycle({
    registry,
    announcer,
    fetchGap: (roomId, from, to) => store.listMessages(roomId, { afterSeq: from - 1, beforeSeq: to + 1, limit: Math.min(200, to - from + 1) }),
    metrics,
    logger,
  });
  const relayToConnections = ({ connectionIds, frame }: RelayPart): void => {
    const missed = connectionIds.length - registry.deliver(connectionIds, frame);
    if (missed > 0) metrics.relayMisses.inc(missed);
  };
  bus.openInbox(async (inbound) => {
    const record = inbound.record;
    switch (record.type) {
      case 'login.reply':
        requestReply.settle(inbound);
        return;
      case 'relay':
        relayToConnections(record.payload);
        return;
      case 'relay.batch':
        for (const part of record.payload.parts) relayToConnections(part);
        return;
      case 'broadcast':
        for (const c of registry.all()) registry.deliver([c.id], record.payload.frame);
        return;
      case 'token.revoked':
        for (const c of registry.all()) if (c.jti === record.payload.jti) c.close(CloseCodes.TOKEN_INVALID, 'token revoked');
        return;
      default:
        return assertNever(record, 'inbox record');
    }
  });

  const checks: Record<string, () => Promise<{ ok: boolean; detail?: string }>> = {
    [bus.kind === 'kafka' ? 'kafka' : 'bus']: () => bus.health(),
    [config.databaseUrl === undefined ? 'store' : 'postgres']: () => store.health(),
    [redis === undefined ? 'revocations' : 'redis']: () => revocations.health(),
  };
  // One TRUST_PROXY rule for every per-IP decision (login throttle, handshake limit, req.ip).
  const clientIps = createClientIpResolver(config.http.trustProxy);
  const routers = [
    createHealthRoutes({
      instanceId: config.instanceId,
      checks,
      ownerStatus: owner === undefined ? undefined : () => bus.ownerStatus(),
      timeoutMs: config.readyCheckTimeoutMs,
      registry: metrics.registry,
      readyChecks: metrics.readyChecks,
    }),
    ...(runsGateway
      ? [
          createAuthRoutes({
            store,
            hasher,
            sealer,
            tokens,
            revocations,
            requestReply,
            throttle: loginThrottle,
            metrics,
            loginTopic: config.topics.login,
            clientIp: clientIps.clientIp,
            announceRevocation: async (userId, jti) => {
              await bus.publish([{ topic: config.topics.broadcast, key: userId, record: makeRecord('token.revoked', userId, { jti }) }]);
            },
          }),
          createRoomRoutes({ store, tokens, revocations, onOutboxWrite: () => outboxRelay.nudge() }),
          createStreamRoutes({ tokens, revocations, lifecycle, metrics }),
          createAdminRoutes({ bus, broadcastTopic: config.topics.broadcast, adminUserIds: config.chat.adminUserIds, tokens, revocations, cluster }),
          createOpenApiRoutes(),
          createWebRoutes(),
        ]
      : []),
  ];
  const http = createHttpApp({ logger, metrics, bodyLimitBytes: config.http.bodyLimitBytes, routers, corsOrigins: config.security.corsOrigins, clientIps });
  const server = createServer(http);
  const ws = runsGateway
    ? createWsGateway({
        server,
        tokens,
        revocations,
        lifecycle,
        handleFrame: createFrameHandler({
          bus,
          store,
          chatTopic: config.topics.chat,
          instanceId: config.instanceId,
          resumeMaxMessages: config.chat.resumeMaxMessages,
          logger,
        }),
        maxPayloadBytes: config.chat.wsMaxPayloadBytes,
        allowedOrigins: config.security.wsAllowedOrigins,
        messageRate: { ratePerSec: config.security.wsMessageRatePerSec, burst: config.security.wsMessageBurst },
        handshakesPerMinute: config.security.wsHandshakesPerMinute,
        clientIp: clientIps.clientIp,
        logger,
        metrics,
      })
    : undefined;
  const log = logger.child({ component: 'app' });
  let state: 'new' | 'started' | 'stopped' = 'new';

  return {
    config,
    logger,
    metrics,
    bus,
    store,
    owner,
    outboxRelay,
    connections: registry,
    http,
    server,
    url: listeningUrl,
    async start() {
      if (state !== 'new') throw new Error(`app cannot start from state ${state}`);
      state = 'started';
      if (config.auth.jwtSecretGenerated) log.warn('JWT_SECRET is not set: a random one is used, so tokens work on this instance only');
      await store.start();
      // lazyConnect: a command issued while the store started (a health probe) may have begun
      // connecting already, and connect() would then throw "already connecting".
      if (redis !== undefined && redis.status === 'wait') await redis.connect();
      await bus.start();
      await outboxRelay.start();
      announcer.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.port, config.http.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      cluster.start();
      log.info({ event: 'app.started', url: this.url(), roles: config.roles, bus: bus.kind }, `listening on ${this.url()}`);
    },
    async stop() {
      if (state !== 'started') {
        state = 'stopped';
        return;
      }
      state = 'stopped';
      // Fixed order: stop taking requests, fail what waits, finish the outbox pass in
      // flight, leave the group (committing in-flight work), then close the connections
      // the rest used.
      announcer.stop();
      await cluster.stop();
      await ws?.stop(CloseCodes.GOING_AWAY);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      requestReply.close();
      // No request can write to the outbox any more; the pass in flight ends before the bus goes.
      await outboxRelay.stop();
      await bus.stop();
      if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
      await store.stop();
      log.info({ event: 'app.stopped' }, 'stopped');
    },
  };
}
