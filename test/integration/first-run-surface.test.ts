import type { Express } from 'express';
import request from 'supertest';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createPgliteChatStore, IN_MEMORY_DATA_DIR } from '../../src/adapters/pglite/pglite-chat-store';
import type { App } from '../../src/app';
import { ClusterViewSchema } from '../../src/protocol/instance-view';
import { OPERATIONS, toOpenApiPath } from '../../src/protocol/openapi-document';
import type { ChatStore } from '../../src/ports/chat-store';
import { startMemoryApp } from '../support/apps';
import { randomName, REDIS_URL, requireRedis, silentLogger, waitFor } from '../support/infra';
import { TestClient } from '../support/ws-client';

/**
 * What a newcomer's single process serves besides the chat (no Kafka, the embedded
 * PGlite): the OpenAPI document, which must list every route the express app serves; the
 * cluster view; the send→deliver latency and lag metrics; and, on Redis, one instance's
 * cluster view showing the others.
 */

/** Every (method, path) route the express app serves, from its router stack (express 5). */
function servedRoutes(http: Express): { method: string; path: string }[] {
  interface Layer {
    route?: { path: unknown; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const routes: { method: string; path: string }[] = [];
  const walk = (stack: readonly Layer[]): void => {
    for (const layer of stack) {
      if (layer.route !== undefined && typeof layer.route.path === 'string') {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') routes.push({ method, path: layer.route.path });
      } else if (layer.handle?.stack !== undefined) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((http as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

async function registerAndLogin(app: App, userId: string): Promise<string> {
  await request(app.http).post('/api/auth/register').send({ userId, password: 'password-1' }).expect(201);
  const res = await request(app.http).post('/api/auth/login').send({ userId, password: 'password-1' }).expect(200);
  return (res.body as { token: string }).token;
}

describe('single process: OpenAPI, cluster view, metrics', () => {
  let app: App;
  const admin = randomName('admin').slice(0, 40);

  beforeAll(async () => {
    app = await startMemoryApp({ env: { ADMIN_USER_IDS: admin } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('serves an OpenAPI 3.1 document that lists every route the app serves, with the validated request schemas', async () => {
    const res = await request(app.http).get('/api/openapi.json').expect(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> } }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const served = servedRoutes(app.http);
    expect(served.length).toBeGreaterThanOrEqual(OPERATIONS.length);
    const missing = served
      .filter((r) => doc.paths[toOpenApiPath(r.path)]?.[r.method] === undefined)
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
    // And nothing documented that is not served.
    const servedKeys = new Set(served.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.filter((k) => !servedKeys.has(k))).toEqual([]);
    // The request body is the zod schema the server validates with.
    const register = doc.paths['/api/auth/register']?.['post']?.requestBody?.content['application/json']?.schema;
    expect(register?.required).toEqual(['userId', 'password']);
    expect(Object.keys(register?.properties ?? {})).toEqual(['userId', 'password', 'displayName']);
  });

  it('serves the web pages', async () => {
    // Built or not, `/` answers: the page, or how to build it.
    const res = await request(app.http).get('/');
    expect([200, 503]).toContain(res.status);
    expect(res.headers['content-type']).toMatch(/text\/(html|plain)/);
  });

  it('answers GET /api/admin/cluster to admins only, with this instance, its partitions and connections', async () => {
    const adminToken = await registerAndLogin(app, admin);
    const userToken = await registerAndLogin(app, randomName('user').slice(0, 40));
    await request(app.http).get('/api/admin/cluster').expect(401);
    await request(app.http).get('/api/admin/cluster').set('authorization', `Bearer ${userToken}`).expect(403);
    const client = await TestClient.connect(app.url(), userToken, 'user');
    try {
      const res = await request(app.http).get('/api/admin/cluster').set('authorization', `Bearer ${adminToken}`).expect(200);
      const view = ClusterViewSchema.parse(res.body);
      expect(view).toMatchObject({ instanceId: app.config.instanceId, partitions: 12, directory: 'local' });
      expect(view.instances).toHaveLength(1);
      expect(view.instances[0]).toMatchObject({
        instanceId: app.config.instanceId,
        bus: 'memory',
        owner: { state: 'joined', partitions: Array.from({ length: 12 }, (_, i) => i) },
        connections: { ws: 1, sse: 0 },
      });
    } finally {
      client.ws.close();
    }
  });

  it('measures send→deliver latency when a message frame goes out, and consumer lag', async () => {
    const [u1, u2] = [randomName('s').slice(0, 40), randomName('r').slice(0, 40)];
    const [t1, t2] = [await registerAndLogin(app, u1), await registerAndLogin(app, u2)];
    const room = await request(app.http)
      .post('/api/rooms')
      .set('authorization', `Bearer ${t1}`)
      .send({ name: 'latency', members: [u2] })
      .expect(201);
    const roomId = (room.body as { roomId: string }).roomId;
    const [c1, c2] = [await TestClient.connect(app.url(), t1, 'sender'), await TestClient.connect(app.url(), t2, 'receiver')];
    try {
      const before =
        (await app.metrics.deliveryLatency.get()).values.find((v) => v.metricName === 'chat_send_deliver_seconds_count')?.value ?? 0;
      c1.ws.send(JSON.stringify({ type: 'send', roomId, clientMsgId: 'm-1', text: 'hello' }));
      await c2.waitFor('the message', (f) => f.type === 'message');
      const after =
        (await app.metrics.deliveryLatency.get()).values.find((v) => v.metricName === 'chat_send_deliver_seconds_count')?.value ?? 0;
      expect(after - before).toBe(1);
      const text = (await request(app.http).get('/metrics').expect(200)).text;
      expect(text).toMatch(/^chat_send_deliver_seconds_bucket\{le="0\.1"\} \d+/m);
      expect(text).toMatch(/^chat_consumer_lag\{source="owner",topic="chat-request",partition="\d+"\} 0$/m);
    } finally {
      c1.ws.close();
      c2.ws.close();
    }
  });
});

describe('cluster view on Redis: every instance sees the others', () => {
  let store: ChatStore;
  let a: App;
  let b: App;
  const admin = randomName('admin').slice(0, 40);

  beforeAll(async () => {
    await requireRedis();
    const memoryBroker = new MemoryBroker();
    store = createPgliteChatStore({ dataDir: IN_MEMORY_DATA_DIR, logger: silentLogger() });
    await store.start();
    const env = { ADMIN_USER_IDS: admin, REDIS_URL };
    a = await startMemoryApp({ env, memoryBroker, store });
    b = await startMemoryApp({ env, memoryBroker, store });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await store?.stop();
  });

  it('lists both instances with the partitions each owns, and drops one that stops', async () => {
    const token = await registerAndLogin(a, admin);
    const cluster = async () =>
      ClusterViewSchema.parse((await request(b.http).get('/api/admin/cluster').set('authorization', `Bearer ${token}`).expect(200)).body);
    const ownedBy = (v: Awaited<ReturnType<typeof cluster>>) =>
      v.instances
        .filter((i) => [a.config.instanceId, b.config.instanceId].includes(i.instanceId))
        .flatMap((i) => i.owner?.partitions ?? [])
        .sort((x, y) => x - y);
    // A's view is at most one announce interval (5 s) old: wait for the one after B joined.
    // Then the owner group's split shows: the 12 partitions between them, each once.
    const view = await waitFor(
      'both instances, with the current split',
      async () => {
        const v = await cluster();
        return ownedBy(v).join() === Array.from({ length: 12 }, (_, i) => i).join() ? v : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(view.directory).toBe('redis');
    expect(view.instances[0]?.instanceId).toBe(b.config.instanceId);
    expect(view.instances.map((i) => i.instanceId)).toContain(a.config.instanceId);
    await a.stop();
    const after = await cluster();
    expect(after.instances.map((i) => i.instanceId)).not.toContain(a.config.instanceId);
  });
});
