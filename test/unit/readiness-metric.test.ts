import request from 'supertest';
import express from 'express';
import { createMetrics } from '../../src/observability/metrics';
import { createHealthRoutes } from '../../src/gateway/http/health-routes';
import type { HealthCheck } from '../../src/ports/service';

/** chat_ready_check: what /readyz says, per check, for alerts (deploy/prometheus/alerts.yml). */
describe('readiness as a metric', () => {
  it('reports each check at scrape time, 1 passing and 0 failing, and follows it when it changes', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let redis: HealthCheck = { ok: false, detail: 'connection refused' };
    let calls = 0;
    const app = express().use(
      createHealthRoutes({
        instanceId: 'i-1',
        checks: {
          kafka: async () => ({ ok: true }),
          redis: async () => {
            calls++;
            return redis;
          },
        },
        ownerStatus: () => ({ state: 'joined', memberId: 'm', partitions: [0, 1] }),
        timeoutMs: 1_000,
        registry: metrics.registry,
        readyChecks: metrics.readyChecks,
      }),
    );
    const scrape = async (): Promise<string> => (await request(app).get('/metrics').expect(200)).text;
    let text = await scrape();
    expect(text).toMatch(/^chat_ready_check\{check="kafka"\} 1$/m);
    expect(text).toMatch(/^chat_ready_check\{check="redis"\} 0$/m);
    expect(text).toMatch(/^chat_ready_check\{check="ownerGroup"\} 1$/m);
    // /readyz evaluates afresh and agrees; a scrape right after reuses that evaluation.
    redis = { ok: true };
    await request(app).get('/readyz').expect(200);
    const before = calls;
    text = await scrape();
    expect(calls).toBe(before);
    expect(text).toMatch(/^chat_ready_check\{check="redis"\} 1$/m);
  });
});
