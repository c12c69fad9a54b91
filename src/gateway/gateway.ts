import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from '../config/config';
import { ChatError } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Bus, OwnerGroupStatus } from '../ports/bus';
import type { ChatStore } from '../ports/chat-store';
import type { InstanceDirectory } from '../ports/instance-directory';
import type { LoginThrottle } from '../ports/login-throttle';
import type { RateWindow } from '../ports/rate-window';
import type { RevocationStore } from '../ports/revocation-store';
import type { HealthCheck } from '../ports/service';
import type { PasswordHasher } from '../auth/password-hasher';
import type { PasswordSealer } from '../auth/password-sealer';
import type { TokenService } from '../auth/token-service';
import { makeRecord } from '../protocol/envelope';
import { CloseCodes } from '../protocol/close-codes';
import { service, type NamedService } from '../service-group';
import { createClusterView } from './cluster-view';
import { createInboxJanitor } from './inbox-janitor';
import { createConnectionLifecycle } from './connection-lifecycle';
import { ConnectionRegistry } from './connection-registry';
import { createFrameHandler } from './frame-handler';
import { createInboxDispatcher } from './inbox-dispatcher';
import { createRequestReply } from './request-reply';
import { createSessionAnnouncer } from './session-announcer';
import { createAdminRoutes } from './http/admin-routes';
import { createAuthRoutes } from './http/auth-routes';
import { createHealthRoutes } from './http/health-routes';
import { createHttpApp } from './http/http-app';
import { createOpenApiRoutes } from './http/openapi-routes';
import { createRoomRoutes } from './http/room-routes';
import { createRefreshRoutes } from './http/refresh-routes';
import { createUserRoutes } from './http/user-routes';
import { createRefreshTokens } from '../auth/refresh-tokens';
import type { RefreshTokenStore } from '../ports/refresh-token-store';
import { createStreamRoutes } from './http/stream-routes';
import { createWebRoutes } from './http/web-routes';
import { createWsGateway } from './ws/ws-gateway';
import { createConnectionCaps } from './ws/connection-caps';
import { createClientIpResolver } from './client-ip';

export interface GatewayOptions {
  config: Config;
  bus: Bus;
  store: ChatStore;
  revocations: RevocationStore;
  loginThrottle: LoginThrottle;
  registrations: RateWindow;
  userSearches: RateWindow;
  refreshTokens: RefreshTokenStore;
  instanceDirectory: InstanceDirectory;
  checks: Readonly<Record<string, () => Promise<HealthCheck>>>;
  hasher: PasswordHasher;
  sealer: PasswordSealer;
  tokens: TokenService;
  /** Set when this instance also runs the owner role: the cluster view and /readyz show it. */
  owner?: { status(): OwnerGroupStatus; userCount(): number };
  /** A REST change wrote to the outbox: produce it now rather than at the next poll. */
  onOutboxWrite: () => void;
  /** The clock of the rate limits, in ms. */
  now: () => number;
  logger: Logger;
  metrics: Metrics;
}

export interface Gateway {
  readonly http: Express;
  readonly server: Server;
  readonly registry: ConnectionRegistry;
  /**
   * Socket slots held against the caps (WebSocket and SSE, handshakes in flight included).
   * A slot goes back when the TCP socket closes, a moment after the client saw its close.
   */
  socketSlots(): number;
  /** http://host:port once listening (the real port when config asked for 0). */
  url(): string;
  /** Announcements, then the listening port and the cluster view; stopped in reverse. Before the bus starts: nothing. */
  readonly services: readonly NamedService[];
}

/**
 * The client-facing side of an instance: REST and WebSocket (or SSE) connections, the
 * request-reply for logins, the session announcements to owners, and the inbox, whose
 * records end here (inbox-dispatcher.ts). Without the gateway role, only the health
 * routes and the listener are made.
 */
export function createGateway({
  config,
  bus,
  store,
  revocations,
  loginThrottle,
  registrations,
  userSearches,
  refreshTokens: refreshTokenStore,
  instanceDirectory,
  checks,
  hasher,
  sealer,
  tokens,
  owner,
  onOutboxWrite,
  now,
  logger,
  metrics,
}: GatewayOptions): Gateway {
  const runsGateway = config.roles.includes('gateway');
  const registry = new ConnectionRegistry(metrics);
  const requestReply = createRequestReply({
    bus,
    replyTopic: bus.inboxTopicOf(config.instanceId),
    timeoutMs: config.requestTimeoutMs,
    metrics,
  });
  bus.openInbox(createInboxDispatcher({ registry, requestReply, metrics }));

  const url = (): string => {
    const address = server.address() as AddressInfo | null;
    const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
    return `http://${host}:${address?.port ?? config.http.port}`;
  };
  // The cluster view (GET /api/admin/cluster, /admin): each instance announces its own, to
  // the shared directory when there is one (so every instance can show all).
  const cluster = createClusterView({
    instanceId: config.instanceId,
    url,
    roles: config.roles,
    partitions: config.topics.partitions,
    bus,
    ownedUserCount: owner === undefined ? undefined : () => owner.userCount(),
    registry,
    metrics,
    directory: instanceDirectory,
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
    fetchGap: async (userId, roomId, from, to) => {
      // A member removed meanwhile reads nothing more of the room (the gate then releases
      // what it holds and waits for nothing).
      if (!((await store.roomMembers(roomId)) ?? []).includes(userId))
        throw new ChatError('NOT_A_MEMBER', `not a member of room ${roomId}`);
      return store.listMessages(roomId, { afterSeq: from - 1, beforeSeq: to + 1, limit: Math.min(200, to - from + 1) });
    },
    metrics,
    logger,
  });

  // One count of this instance's sockets, WebSocket and SSE alike.
  const caps = createConnectionCaps({ maxPerIp: config.security.maxConnectionsPerIp, maxTotal: config.security.maxConnections });
  // One TRUST_PROXY rule for every per-IP decision (login throttle, handshake limit, req.ip).
  const clientIps = createClientIpResolver(config.http.trustProxy);
  const refreshTokens = createRefreshTokens({ store: refreshTokenStore, ttlSeconds: config.auth.refreshTokenTtlSeconds });
  const routers = [
    createHealthRoutes({
      instanceId: config.instanceId,
      checks,
      ownerStatus: owner?.status,
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
            refreshTokens,
            revocations,
            requestReply,
            throttle: loginThrottle,
            registrations,
            metrics,
            loginTopic: config.topics.login,
            clientIp: clientIps.clientIp,
            announceRevocation: async (userId, jti) => {
              await bus.publish([{ topic: config.topics.broadcast, key: userId, record: makeRecord('token.revoked', userId, { jti }) }]);
            },
          }),
          createRefreshRoutes({ tokens, refreshTokens, metrics }),
          createUserRoutes({ store, tokens, revocations, searches: userSearches, metrics }),
          createRoomRoutes({ store, tokens, revocations, onOutboxWrite, requestReply, chatTopic: config.topics.chat }),
          createStreamRoutes({ tokens, revocations, lifecycle, metrics, caps, clientIp: clientIps.clientIp }),
          createAdminRoutes({
            bus,
            broadcastTopic: config.topics.broadcast,
            adminUserIds: config.chat.adminUserIds,
            tokens,
            revocations,
            cluster,
          }),
          createOpenApiRoutes(),
          createWebRoutes(),
        ]
      : []),
  ];
  const http = createHttpApp({
    logger,
    metrics,
    bodyLimitBytes: config.http.bodyLimitBytes,
    routers,
    corsOrigins: config.security.corsOrigins,
    clientIps,
  });
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
        caps,
        clientIp: clientIps.clientIp,
        now,
        logger,
        metrics,
      })
    : undefined;

  const listener = service('http', {
    start: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.port, config.http.host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    // Stop taking requests: sockets are told to reconnect elsewhere (1001), then what waits
    // on a reply fails at once rather than at its timeout.
    stop: async () => {
      await ws?.stop(CloseCodes.GOING_AWAY);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      requestReply.close();
    },
  });

  // Inboxes of instances long gone (docs/operations.md, "Inbox topics"). Only where every
  // instance announces to one shared directory: with a local one, the others would look gone.
  const janitor =
    bus.inboxes !== undefined && instanceDirectory.kind === 'redis' && config.inboxJanitor.intervalMs > 0
      ? createInboxJanitor({
          inboxes: bus.inboxes,
          directory: instanceDirectory,
          instanceId: config.instanceId,
          ...config.inboxJanitor,
          logger,
          metrics,
        })
      : undefined;

  return {
    http,
    server,
    registry,
    socketSlots: () => caps.size(),
    url,
    services: [
      service('session-announcer', announcer),
      listener,
      service('cluster-view', cluster),
      ...(janitor === undefined ? [] : [service('inbox-janitor', janitor)]),
    ],
  };
}
