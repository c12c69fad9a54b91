import { Router } from 'express';
import type { Gauge, Registry } from 'prom-client';
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
  /** Set from the checks at every scrape of /metrics (and every /readyz), for alerts on readiness. */
  readyChecks?: Gauge<'check'>;
}

interface Readiness {
  readonly ready: boolean;
  readonly results: Record<string, HealthCheck>;
  readonly owner: OwnerGroupStatus | undefined;
}

/**
 * A scrape within this long of the last evaluation (a probe's or another scrape's) reuses
 * it: the checks cost a round trip to each dependency. /readyz always evaluates afresh.
 */
const READINESS_REUSE_MS = 1_000;

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
export function createHealthRoutes({ instanceId, checks, ownerStatus, timeoutMs, registry, readyChecks }: HealthRoutesOptions): Router {
  const router = Router();
  const evaluate = async (): Promise<Readiness> => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const),
    );
    const results: Record<string, HealthCheck> = Object.fromEntries(entries);
    const owner = ownerStatus?.();
    if (owner !== undefined) {
      results['ownerGroup'] =
        owner.state === 'joined' ? { ok: true, detail: `${owner.partitions.length} partitions` } : { ok: false, detail: owner.state };
    }
    for (const [name, r] of Object.entries(results)) readyChecks?.set({ check: name }, r.ok ? 1 : 0);
    return { ready: Object.values(results).every((r) => r.ok), results, owner };
  };
  let last: { at: number; readiness: Promise<Readiness> } | undefined;
  const readiness = (reuseRecent: boolean): Promise<Readiness> => {
    const now = Date.now();
    if (!reuseRecent || last === undefined || now - last.at >= READINESS_REUSE_MS) last = { at: now, readiness: evaluate() };
    return last.readiness;
  };
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', instanceId });
  });
  router.get('/readyz', async (_req, res) => {
    const { ready, results, owner } = await readiness(false);
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      instanceId,
      checks: results,
      ...(owner === undefined ? {} : { owner: { memberId: owner.memberId ?? null, partitions: owner.partitions } }),
    });
  });
  router.get('/metrics', async (_req, res) => {
    if (readyChecks !== undefined) await readiness(true);
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
