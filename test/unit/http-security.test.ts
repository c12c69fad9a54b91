import { Router } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createHttpApp } from '../../src/gateway/http/http-app';
import { createMetrics } from '../../src/observability/metrics';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';

/**
 * The HTTP boundary (issue 7, item 4) on the Express app alone: security headers, CORS,
 * the body limit, and an error handler that never shows a stack or an internal message.
 */
const SECRET_MESSAGE = 'connect ECONNREFUSED 10.1.2.3:5432 password=hunter2';

function testRouter(): Router {
  const router = Router();
  router.get('/api/ok', (_req, res) => void res.json({ ok: true }));
  router.post('/api/echo', (req, res) => void res.json({ got: req.body as unknown }));
  router.get('/api/throws', () => {
    const error = new Error(SECRET_MESSAGE);
    expect(error.stack).toContain('http-security.test.ts');
    throw error;
  });
  router.get('/api/throws-async', async () => {
    await Promise.resolve();
    throw new TypeError(`Cannot read properties of undefined (reading 'x') at ${__filename}`);
  });
  router.get('/api/throws-string', () => {
    throw SECRET_MESSAGE;
  });
  router.get('/api/throws-http-error', () => {
    // An error shaped like the http-errors Express 5 knows, saying "expose me".
    throw Object.assign(new Error(SECRET_MESSAGE), { status: 400, statusCode: 400, expose: true });
  });
  return router;
}

const appWith = (corsOrigins?: readonly string[]) =>
  createHttpApp({
    logger: pino({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    bodyLimitBytes: 1024,
    routers: [testRouter()],
    ...(corsOrigins === undefined ? {} : { corsOrigins }),
  });

describe('security headers', () => {
  const http = appWith();

  it('sets a CSP for a same-origin page and the usual hardening headers', async () => {
    const res = await request(http).get('/api/ok').expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sets them on errors too', async () => {
    const res = await request(http).get('/nowhere').expect(404);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });
});

describe('CORS', () => {
  it('allows no cross-origin reads by default', async () => {
    const res = await request(appWith()).get('/api/ok').set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(appWith())
      .options('/api/echo')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows exactly the configured origins, without credentials', async () => {
    const http = appWith(loadConfig({ CORS_ORIGINS: 'https://chat.example.com/, http://localhost:5173' }).security.corsOrigins);
    const ok = await request(http).get('/api/ok').set('Origin', 'https://chat.example.com').expect(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://chat.example.com');
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    expect(ok.headers['access-control-expose-headers']).toContain('Retry-After');
    const preflight = await request(http)
      .options('/api/echo')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    for (const origin of ['https://evil.example', 'https://chat.example.com.evil.example', 'http://chat.example.com', 'null']) {
      const res = await request(http).get('/api/ok').set('Origin', origin).expect(200);
      expect([origin, res.headers['access-control-allow-origin']]).toEqual([origin, undefined]);
    }
  });
});

describe('request bodies', () => {
  const http = appWith();

  it('answers 413 PAYLOAD_TOO_LARGE over the body limit, without reading it into a route', async () => {
    const res = await request(http)
      .post('/api/echo')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ x: 'y'.repeat(2_000) }))
      .expect(413);
    expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body is too large' } });
    await request(http)
      .post('/api/echo')
      .send({ x: 'y'.repeat(500) })
      .expect(200);
  });

  it('answers 400 INVALID_JSON without echoing the input, and refuses non-object JSON roots', async () => {
    const res = await request(http)
      .post('/api/echo')
      .set('Content-Type', 'application/json')
      .send('{"x": <script>alert(1)</script>')
      .expect(400);
    expect(res.body).toEqual({ error: { code: 'INVALID_JSON', message: 'request body is not valid JSON' } });
    expect(
      (await request(http).post('/api/echo').set('Content-Type', 'application/json').send('"just a string"').expect(400)).body.error.code,
    ).toBe('INVALID_JSON');
  });

  it('answers an unsupported charset with 400, not 500', async () => {
    const res = await request(http).post('/api/echo').set('Content-Type', 'application/json; charset=klingon').send('{}');
    expect([res.status, res.body.error?.code]).toEqual([400, 'VALIDATION']);
  });
});

describe('request logs', () => {
  it('never hold a token sent in the query string (SSE and browser WebSocket clients send it there)', async () => {
    const lines: string[] = [];
    const http = createHttpApp({
      logger: createLogger({ level: 'debug', instanceId: 'test', destination: { write: (line: string) => void lines.push(line) } }),
      metrics: createMetrics({ defaultMetrics: false }),
      bodyLimitBytes: 1024,
      routers: [testRouter()],
    });
    await request(http)
      .get('/api/ok?x=1&token=eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig&TOKEN=second')
      .set('Authorization', 'Bearer eyJheader.c2VjcmV0.sig')
      .expect(200);
    await request(http).get('/nowhere?token=eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig').expect(404);
    const log = lines.join('');
    expect(log).toContain('token=[redacted]');
    expect(log).toContain('x=1');
    expect(log).not.toContain('c2VjcmV0');
    expect(log).not.toContain('second');
  });
});

describe('error handler', () => {
  const http = appWith();

  it.each(['/api/throws', '/api/throws-async', '/api/throws-string'])(
    'answers %s with a bare 500 INTERNAL: no stack, no message, no path',
    async (path) => {
      const res = await request(http).get(path).expect(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(res.text).not.toMatch(/hunter2|ECONNREFUSED|\bat \S+|\.ts\b|node_modules|Error:/);
    },
  );

  it('does not pass an internal message through even when the error asks to be exposed', async () => {
    const res = await request(http).get('/api/throws-http-error');
    expect(res.text).not.toContain('hunter2');
    expect(res.body.error.code).toEqual(expect.any(String));
  });
});
