import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { errorHandler, notFoundHandler } from './error-handler';
import { securityHeaders } from './security-headers';
import { corsPolicy } from './cors-policy';
import { redactUrl } from '../../observability/redact-url';
import { loopbackClientIps, type ClientIpResolver } from '../client-ip';

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** JSON body limit in bytes; larger bodies get 413 PAYLOAD_TOO_LARGE. */
  bodyLimitBytes: number;
  routers: readonly Router[];
  /** Origins CORS allows (docs/security.md). Default none: same-origin pages only. */
  corsOrigins?: readonly string[];
  /** TRUST_PROXY's rule, so Express's `req.ip` agrees with the per-IP limits. Default: loopback. */
  clientIps?: ClientIpResolver;
}

/**
 * The Express app: a child logger per request (with a request id, echoed as
 * X-Request-Id), a bounded JSON body parser, the routers, then 404 and the error handler.
 */
export function createHttpApp({
  logger,
  metrics,
  bodyLimitBytes,
  routers,
  corsOrigins = [],
  clientIps = loopbackClientIps,
}: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', (address: string, index: number) => clientIps.trusts(address, index));
  app.use(
    pinoHttp<IncomingMessage, ServerResponse, never>({
      logger: logger.child({ component: 'http' }),
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
      serializers: {
        req: (req: { id: unknown; method: unknown; url: unknown }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      },
    }),
  );
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(securityHeaders());
  if (corsOrigins.length > 0) app.use(corsPolicy({ origins: corsOrigins }));
  app.use(express.json({ limit: bodyLimitBytes, strict: true }));
  for (const r of routers) app.use(r);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
