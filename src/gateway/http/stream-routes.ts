import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { frameJson, type ServerFrame } from '../../protocol/frames';
import type { TokenService } from '../../auth/token-service';
import type { RevocationStore } from '../../ports/revocation-store';
import type { Metrics } from '../../observability/metrics';
import type { ClientConnection } from '../client-connection';
import type { ConnectionLifecycle } from '../connection-lifecycle';
import { authenticateToken, bearerToken } from './authenticate';
import { ChatError, UnavailableError } from '../../domain/errors';
import type { ClientIpRequest } from '../client-ip';
import type { ConnectionCaps } from '../ws/connection-caps';

/** The SSE comment interval; a proxy's idle timeout on /api/stream must outlast it (deploy/nginx.conf). */
export const SSE_KEEP_ALIVE_MS = 15_000;

/**
 * GET /api/stream: the server frames of a WebSocket as Server-Sent Events, read-only, for
 * clients that cannot hold a WebSocket. The token comes as a Bearer header or `?token=`
 * (EventSource cannot set headers). Each event is named after the frame type and carries
 * the frame as JSON. A comment line every `keepAliveMs` keeps proxies from timing it out.
 */
export function createStreamRoutes({
  tokens,
  revocations,
  lifecycle,
  metrics,
  caps,
  clientIp,
  keepAliveMs = SSE_KEEP_ALIVE_MS,
}: {
  tokens: TokenService;
  revocations: RevocationStore;
  lifecycle: ConnectionLifecycle;
  metrics: Metrics;
  /** The instance's socket caps, shared with the WebSocket gateway. */
  caps: ConnectionCaps;
  /** The client IP the per-IP cap counts by (TRUST_PROXY). */
  clientIp: (req: ClientIpRequest) => string;
  /** Default 15 s. */
  keepAliveMs?: number;
}): Router {
  const router = Router();
  router.get('/api/stream', async (req, res) => {
    const ip = clientIp(req);
    const slot = caps.acquire(ip);
    if (slot === 'per-ip') throw new ChatError('CONNECTION_LIMIT', 'too many connections from this address');
    if (slot === 'instance') throw new UnavailableError('this instance holds as many connections as it may; connect to another');
    // Held until the response ends or its connection closes, whatever happens from here on.
    res.once('close', () => caps.release(ip));
    const token = bearerToken(req.headers.authorization) ?? (typeof req.query['token'] === 'string' ? req.query['token'] : undefined);
    const claims = await authenticateToken(token, tokens, revocations);
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    let open = true;
    const connection: ClientConnection = {
      id: randomUUID(),
      userId: claims.userId,
      kind: 'sse',
      jti: claims.jti,
      send(frame: ServerFrame) {
        if (!open) return false;
        res.write(`event: ${frame.type}\ndata: ${frameJson(frame)}\n\n`);
        metrics.framesSent.inc({ type: frame.type });
        return true;
      },
      close(code, reason) {
        if (!open) return;
        res.write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
        res.end();
      },
    };
    const opened = lifecycle.open(connection, claims);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    keepAlive.unref();
    res.on('close', () => {
      open = false;
      clearInterval(keepAlive);
      opened.closed();
    });
  });
  return router;
}
