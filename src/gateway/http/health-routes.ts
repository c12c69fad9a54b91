import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { HealthCheck } from '../../ports/service';
import type { OwnerGroupStatus } from '../../ports/bus';

export interface HealthRoutesOptions {
  instanceId: string;
  /** Named dependency checks for /readyz (kafka, postgres, redis). */
  checks: Record<string, () => Promise<HealthCheck>>;
  /** Owner group status, when this instance runs the owner role. */
  ownerStatus: (() => OwnerGroupStatus) | undefined;
  timeoutMs: number;
  registry: Registry;
}

async function withTimeout(check: () => Promise<HealthCheck>, ms: number): Promise<HealthCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check(),
      new Promise<HealthCheck>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz (liveness), /readyz (dependencies and group membership), /metrics. */
export function createHealthRoutes({ instanceId, checks, ownerStatus, timeoutMs, registry }: HealthRoutesOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', instanceId });
  });
  router.get('/readyz', async (_req, res) => {
    const entries = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const));
    const results: Record<string, HealthCheck> = Object.fromEntries(entries);
    const owner = ownerStatus?.();
    if (owner !== undefined) {
      results['ownerGroup'] = owner.state === 'joined' ? { ok: true, detail: `${owner.partitions.length} partitions` } : { ok: false, detail: owner.state };
    }
    const ready = Object.values(results).every((r) => r.ok);
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      instanceId,
      checks: results,
      ...(owner === undefined ? {} : { owner: { memberId: owner.memberId ?? null, partitions: owner.partitions } }),
    });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
