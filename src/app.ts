import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Config } from './config/config';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import type { Bus } from './ports/bus';
import type { ChatStore } from './ports/chat-store';
import type { Service } from './ports/service';
import type { SessionMirror } from './ports/session-mirror';
import type { MemoryBroker } from './adapters/memory/memory-broker';
import { createPasswordHasher } from './auth/password-hasher';
import { createPasswordSealer } from './auth/password-sealer';
import { createTokenService } from './auth/token-service';
import { createOwnerService, type OwnerService } from './owner/owner-service';
import { createOutboxRelay, type OutboxRelay } from './relay/outbox-relay';
import type { ConnectionRegistry } from './gateway/connection-registry';
import { createGateway } from './gateway/gateway';
import { createInfrastructure } from './infrastructure';
import { createServiceGroup, service } from './service-group';

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
  /** The clock of the gateway's rate limits (handshakes, frames), in ms. Default Date.now; tests move it by hand. */
  now?: () => number;
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
  /** Socket slots held against the connection caps (see Gateway.socketSlots). */
  socketSlots(): number;
  readonly http: Express;
  readonly server: Server;
  /** http://host:port once started (the real port when config asked for 0). */
  url(): string;
}

/**
 * Wires one instance from its configuration, as docs/architecture.md draws it: the
 * infrastructure (bus, store, Redis or memory), the owner role on the request topics, the
 * outbox relay, and the gateway that clients talk to. Nothing here has behaviour of its
 * own; the parts start in that order and stop in reverse (service-group.ts).
 */
export function createApp({ config, logger: given, memoryBroker, store: givenStore, sessionMirror, now = Date.now }: AppOptions): App {
  const logger = given ?? createLogger({ level: config.logLevel, instanceId: config.instanceId });
  const metrics = createMetrics();
  const infra = createInfrastructure({
    config,
    logger,
    metrics,
    ...(memoryBroker === undefined ? {} : { memoryBroker }),
    ...(givenStore === undefined ? {} : { store: givenStore }),
    ...(sessionMirror === undefined ? {} : { sessionMirror }),
  });
  const { bus, store } = infra;
  const hasher = createPasswordHasher({ cost: config.auth.bcryptCost });
  const sealer = createPasswordSealer({ secret: config.auth.jwtSecret });
  const tokens = createTokenService({
    secret: config.auth.jwtSecret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ttlSeconds: config.auth.tokenTtlSeconds,
  });

  if (config.roles.includes('owner')) metrics.requestPartitions.set(config.topics.partitions);
  const owner = config.roles.includes('owner')
    ? createOwnerService({
        instanceId: config.instanceId,
        bus,
        store,
        mirror: infra.mirror,
        hasher,
        sealer,
        chatTopic: config.topics.chat,
        limits: {
          sendRatePerSec: config.chat.sendRatePerSec,
          sendBurst: config.chat.sendBurst,
          sessionTtlMs: config.chat.sessionTtlMs,
          maxSessionsPerUser: config.security.maxConnectionsPerUser,
          presenceSnapshotMaxUsers: config.chat.presenceSnapshotMaxUsers,
          receiptsMaxRoomMembers: config.chat.receiptsMaxRoomMembers,
        },
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
    idlePollMaxMs: config.outbox.idlePollMaxMs,
    logger,
    metrics,
  });

  const gateway = createGateway({
    config,
    ...infra,
    hasher,
    sealer,
    tokens,
    ...(owner === undefined ? {} : { owner: { status: () => bus.ownerStatus(), userCount: () => owner.users.userCount() } }),
    onOutboxWrite: () => outboxRelay.nudge(),
    now,
    logger,
    metrics,
  });

  const log = logger.child({ component: 'app' });
  // Stopped in reverse: stop taking requests, finish the outbox pass in flight, leave the
  // group (committing in-flight work), then close the connections the rest used.
  const parts = createServiceGroup(
    [
      ...infra.connections,
      // Before the bus creates this instance's inbox: a sighting now, so that after a
      // restart under an id last seen long ago no janitor takes the new inbox for a gone
      // instance's in the seconds before this instance first announces itself.
      service('instance-sighting', { start: () => infra.instanceDirectory.noteSeen(config.instanceId, Date.now()) }),
      service('bus', bus),
      // Stopped before the bus leaves the group: no expiry request is written after that.
      ...(owner === undefined ? [] : [service('owner-expiry', { stop: async () => owner.stop() })]),
      service('outbox-relay', outboxRelay),
      ...gateway.services,
    ],
    {
      onStopError: (name, err) => log.warn({ part: name, err: err instanceof Error ? err.message : String(err) }, 'stop failed'),
    },
  );
  let state: 'new' | 'started' | 'stopped' = 'new';

  return {
    config,
    logger,
    metrics,
    bus,
    store,
    owner,
    outboxRelay,
    connections: gateway.registry,
    socketSlots: gateway.socketSlots,
    http: gateway.http,
    server: gateway.server,
    url: gateway.url,
    async start() {
      if (state !== 'new') throw new Error(`app cannot start from state ${state}`);
      state = 'started';
      if (config.auth.jwtSecretGenerated) log.warn('JWT_SECRET is not set: a random one is used, so tokens work on this instance only');
      // docs/architecture.md, "Presence that tells the truth": a dead owner's partitions must move
      // before its users' sessions expire in the mirror, or they are never announced offline.
      if (config.kafka !== undefined && config.kafka.sessionTimeoutMs >= config.chat.sessionTtlMs)
        log.warn(
          { kafkaSessionTimeoutMs: config.kafka.sessionTimeoutMs, sessionTtlMs: config.chat.sessionTtlMs },
          'KAFKA_SESSION_TIMEOUT_MS is not below SESSION_TTL_MS: users of an instance that dies while owning their partition may never be announced offline',
        );
      await parts.start();
      log.info({ event: 'app.started', url: gateway.url(), roles: config.roles, bus: bus.kind }, `listening on ${gateway.url()}`);
    },
    async stop() {
      const was = state;
      state = 'stopped';
      if (was !== 'started') return;
      await parts.stop();
      log.info({ event: 'app.stopped' }, 'stopped');
    },
  };
}
