import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { toChatError } from '../../domain/errors';
import { createKeyedRateLimiter } from '../../domain/keyed-rate-limiter';
import { newBucket, takeToken } from '../../domain/token-bucket';
import { CloseCodes, type CloseCode } from '../../protocol/close-codes';
import { frameJson, type ServerFrame } from '../../protocol/frames';
import type { TokenService } from '../../auth/token-service';
import type { RevocationStore } from '../../ports/revocation-store';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { authenticateToken, bearerToken } from '../http/authenticate';
import type { ClientConnection } from '../client-connection';
import type { ConnectionLifecycle } from '../connection-lifecycle';
import { parseClientFrame, type FrameHandler } from '../frame-handler';
import { loopbackClientIps, type ClientIpRequest } from '../client-ip';
import { isOriginAllowed } from './origin-policy';
import { createConnectionCaps, type ConnectionCaps } from './connection-caps';
import { createTurnWrites } from './turn-writes';

export interface WsGatewayOptions {
  server: Server;
  tokens: TokenService;
  revocations: RevocationStore;
  lifecycle: ConnectionLifecycle;
  handleFrame: FrameHandler;
  /** Largest accepted frame; a larger one closes the socket with 1009. */
  maxPayloadBytes: number;
  /** A socket whose unsent backlog passes this is too slow and is closed (4008). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Protocol ping interval; a socket that misses one pong is dropped. Default 30 s. */
  pingIntervalMs?: number;
  path?: string;
  /** Browser origins allowed besides same-origin pages and clients that send no Origin. Default none. */
  allowedOrigins?: readonly string[];
  /** Frames per second one connection may send, and the burst above it; beyond: close 4008. Default 20/s, 40. */
  messageRate?: { ratePerSec: number; burst: number };
  /** Handshakes per client IP per minute on this instance; beyond: HTTP 429. Default 30. */
  handshakesPerMinute?: number;
  /**
   * The socket caps of this instance (shared with SSE): beyond the per-IP one 429
   * CONNECTION_LIMIT, beyond the instance's 503 UNAVAILABLE (try another instance).
   * Default: 100 per IP, 10,000 in all.
   */
  caps?: ConnectionCaps;
  /** The client IP the handshake limit counts by (TRUST_PROXY). Default: X-Forwarded-For from loopback peers only. */
  clientIp?: (req: ClientIpRequest) => string;
  /** Clock in ms, for the rate limits. Default Date.now. */
  now?: () => number;
  logger: Logger;
  metrics: Metrics;
}

/**
 * How often the server pings every socket (a socket that misses one pong is dropped). A
 * proxy's idle timeout on /ws must outlast it (deploy/nginx.conf; test/unit/nginx-conf).
 */
export const WS_PING_INTERVAL_MS = 30_000;

/** Refuses an upgrade with a plain HTTP answer: no socket is ever created. */
function refuse(socket: Duplex, status: number, code: string, message: string, extraHeaders = ''): void {
  const body = JSON.stringify({ error: { code, message } });
  const reasons: Record<number, string> = {
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
  };
  const reason = reasons[status] ?? 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extraHeaders}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * The WebSocket endpoint (`ws` in noServer mode on the HTTP server's `upgrade`). Before the
 * upgrade, cheapest check first: the per-IP handshake rate (429), the Origin (403, see
 * origin-policy.ts), then the token (Authorization header, or `?token=` for browsers),
 * verified and checked against revocations (401). A refused request never gets a socket.
 * After it, every frame takes a token from the connection's bucket; a client that sends
 * faster than the rate for longer than the burst is closed with 4008.
 */
export function createWsGateway({
  server,
  tokens,
  revocations,
  lifecycle,
  handleFrame,
  maxPayloadBytes,
  maxBufferedBytes = 1024 * 1024,
  pingIntervalMs = WS_PING_INTERVAL_MS,
  path = '/ws',
  allowedOrigins = [],
  messageRate = { ratePerSec: 20, burst: 40 },
  handshakesPerMinute = 30,
  caps = createConnectionCaps({ maxPerIp: 100, maxTotal: 10_000 }),
  clientIp = loopbackClientIps.clientIp,
  now = Date.now,
  logger,
  metrics,
}: WsGatewayOptions) {
  // Compression off: it costs memory per socket and opens compression side channels.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes, perMessageDeflate: false, clientTracking: true });
  const log = logger.child({ component: 'ws' });
  const alive = new WeakMap<WebSocket, boolean>();
  let accepting = true;
  // Per instance, in memory: a client spreading handshakes over N instances gets N times
  // the rate, which still bounds it (docs/security.md); no Redis round trip per handshake.
  const handshakes = createKeyedRateLimiter({ ratePerSec: handshakesPerMinute / 60, burst: handshakesPerMinute, now });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return refuse(socket, 404, 'NOT_FOUND', 'no WebSocket endpoint here');
    if (!accepting) return refuse(socket, 503, 'UNAVAILABLE', 'shutting down');
    const ip = clientIp(req);
    if (!handshakes.take(ip)) {
      metrics.securityRefusals.inc({ reason: 'ws_handshake_rate' });
      const retryAfter = Math.max(1, Math.ceil(60 / handshakesPerMinute));
      return refuse(socket, 429, 'RATE_LIMITED', 'too many WebSocket handshakes; slow down', `Retry-After: ${retryAfter}\r\n`);
    }
    if (!isOriginAllowed({ origin: req.headers.origin, host: req.headers.host, allowedOrigins })) {
      metrics.securityRefusals.inc({ reason: 'ws_origin' });
      return refuse(socket, 403, 'FORBIDDEN', 'origin not allowed');
    }
    // Last of the cheap checks, and a slot held from here on, until the TCP socket closes:
    // a refused handshake, a socket that went away during the token check, or a
    // WebSocket's end all close it, so the slot cannot leak.
    const slot = caps.acquire(ip);
    if (slot !== 'ok') {
      metrics.securityRefusals.inc({ reason: slot === 'per-ip' ? 'ws_connections_per_ip' : 'ws_connections_instance' });
      return slot === 'per-ip'
        ? refuse(socket, 429, 'CONNECTION_LIMIT', 'too many connections from this address', 'Retry-After: 5\r\n')
        : refuse(socket, 503, 'UNAVAILABLE', 'this instance holds as many connections as it may; connect to another', 'Retry-After: 5\r\n');
    }
    socket.once('close', () => caps.release(ip));
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
    authenticateToken(token, tokens, revocations).then(
      (claims) => wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, claims)),
      (error: unknown) => {
        const err = toChatError(error);
        refuse(socket, err.status, err.code, err.code === 'INTERNAL' ? 'internal error' : err.message);
      },
    );
  };

  const onConnection = (ws: WebSocket, socket: Duplex, claims: { userId: string; jti: string; exp: number }): void => {
    // A connection's frames of one event-loop turn leave in one write (turn-writes.ts).
    const turn = createTurnWrites(socket);
    const connection: ClientConnection = {
      id: randomUUID(),
      userId: claims.userId,
      kind: 'ws',
      jti: claims.jti,
      send(frame: ServerFrame) {
        if (ws.readyState !== WebSocket.OPEN) return false;
        if (ws.bufferedAmount > maxBufferedBytes) {
          // A client that does not read is cut off rather than growing our memory.
          this.close(CloseCodes.POLICY, 'too slow: backlog over limit');
          return false;
        }
        turn.hold();
        ws.send(frameJson(frame));
        metrics.framesSent.inc({ type: frame.type });
        return true;
      },
      close(code: CloseCode, reason: string) {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
      },
    };
    const opened = lifecycle.open(connection, claims);
    const connLog = log.child({ userId: claims.userId, connectionId: connection.id });
    alive.set(ws, true);
    // Frames of one connection are handled in order, so a client's sends keep their order.
    let queue: Promise<void> = Promise.resolve();
    const bucket = newBucket(messageRate.burst, now());
    let overRate = false;

    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Every frame counts, valid or not: parsing and answering garbage costs as much.
      if (overRate) return;
      if (!takeToken(bucket, now(), messageRate)) {
        overRate = true;
        metrics.securityRefusals.inc({ reason: 'ws_message_rate' });
        connLog.info('frame rate over limit; closing');
        connection.close(CloseCodes.POLICY, 'rate limit exceeded');
        return;
      }
      if (isBinary) {
        connection.send({ type: 'error', code: 'VALIDATION', message: 'binary frames are not supported' });
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      let frame;
      try {
        frame = parseClientFrame(text);
      } catch (error) {
        const err = toChatError(error);
        connection.send({ type: 'error', code: err.code, message: err.message });
        return;
      }
      queue = queue
        .then(() => handleFrame(connection, opened.gate, opened.ready, frame))
        .catch((error: unknown) => {
          const err = toChatError(error);
          connLog.warn({ code: err.code, err: err.message, frame: frame.type }, 'frame failed');
          const ref =
            frame.type === 'send'
              ? frame.clientMsgId
              : frame.type === 'edit' || frame.type === 'delete'
                ? (frame.clientMsgId ?? frame.messageId)
                : undefined;
          connection.send({
            type: 'error',
            code: err.code,
            message: err.code === 'INTERNAL' ? 'internal error' : err.message,
            ...(ref === undefined ? {} : { ref }),
          });
        });
    });
    ws.on('close', () => opened.closed());
    ws.on('error', (error) => connLog.debug({ err: error.message }, 'socket error'));
  };

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, pingIntervalMs);
  heartbeat.unref();

  server.on('upgrade', onUpgrade);

  return {
    /** Stops accepting and closes every socket with `code` (1001: reconnect elsewhere). */
    async stop(code: CloseCode = CloseCodes.GOING_AWAY): Promise<void> {
      accepting = false;
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.close(code, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
