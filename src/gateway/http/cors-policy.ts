import type { RequestHandler } from 'express';
import cors from 'cors';

/**
 * CORS for the REST API: only the listed origins (`CORS_ORIGINS`, exact
 * `scheme://host[:port]`) may read answers from a page of theirs. No credentials mode:
 * the API authenticates with a bearer token the page sends explicitly, never a cookie,
 * so a cross-site page gets nothing it did not already hold. With no origin listed (the
 * default) the app mounts no CORS handler at all and browsers allow same-origin only.
 */
export function corsPolicy({
  origins,
  maxAgeSeconds = 600,
}: {
  origins: readonly string[];
  /** How long a browser may cache a preflight answer. Default 10 minutes. */
  maxAgeSeconds?: number;
}): RequestHandler {
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    credentials: false,
    maxAge: maxAgeSeconds,
  });
}
