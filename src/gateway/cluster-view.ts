import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Bus } from '../ports/bus';
import type { InstanceDirectory } from '../ports/instance-directory';
import type { Service } from '../ports/service';
import type { ClusterView, InstanceView, PartitionLag } from '../protocol/instance-view';
import type { ConnectionRegistry } from './connection-registry';

/**
 * start() begins announcing this instance's view every `intervalMs`; stop() ends it and
 * withdraws the view, so the page drops this instance at once.
 */
export interface ClusterViewService extends Service {
  /** This instance's view now. */
  self(): Promise<InstanceView>;
  /** This instance's view now, then every other one the directory holds. */
  cluster(): Promise<ClusterView>;
}

/**
 * The cluster view behind GET /api/admin/cluster and /admin: which instances run, the
 * partitions each owns, its consumer lag and its connections. Each instance knows only its
 * own truth, so each one announces it to the shared directory (Redis, with a TTL) and the
 * answer is the union; an instance that dies drops out when its key expires.
 */
export function createClusterView({
  instanceId,
  url,
  roles,
  partitions,
  bus,
  ownedUserCount,
  registry,
  metrics,
  directory,
  intervalMs = 5_000,
  ttlMs = intervalMs * 3,
  now = Date.now,
  logger,
}: {
  instanceId: string;
  /** This instance's URL, known once it listens. */
  url: () => string;
  roles: readonly string[];
  /** Partitions of each request topic. */
  partitions: number;
  bus: Bus;
  /** Users whose state this instance holds as an owner; undefined when it runs no owner role. */
  ownedUserCount: (() => number) | undefined;
  registry: ConnectionRegistry;
  metrics: Metrics;
  directory: InstanceDirectory;
  /** How often the view is announced. Default 5 s. */
  intervalMs?: number;
  /** How long an announced view lives without a new one. Default 3 × intervalMs. */
  ttlMs?: number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
  logger: Logger;
}): ClusterViewService {
  const log = logger.child({ component: 'cluster-view' });
  const startedAt = new Date(now()).toISOString();
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  const lag = async (): Promise<PartitionLag[]> => {
    const { values } = await metrics.consumerLag.get();
    return values
      .map((v) => ({ source: String(v.labels.source), topic: String(v.labels.topic), partition: Number(v.labels.partition), lag: v.value }))
      .sort((a, b) => a.source.localeCompare(b.source) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
  };

  const self = async (): Promise<InstanceView> => {
    const connections = { ws: 0, sse: 0 };
    for (const c of registry.all()) connections[c.kind]++;
    const status = ownedUserCount === undefined ? undefined : bus.ownerStatus();
    return {
      instanceId,
      url: url(),
      roles: [...roles],
      bus: bus.kind,
      startedAt,
      reportedAt: new Date(now()).toISOString(),
      owner:
        status === undefined || ownedUserCount === undefined
          ? null
          : { state: status.state, memberId: status.memberId ?? null, partitions: [...status.partitions], users: ownedUserCount() },
      lag: await lag(),
      connections,
    };
  };

  const announce = async (): Promise<void> => {
    try {
      await directory.announce(await self(), ttlMs);
      if (failing) log.info('cluster view announced again');
      failing = false;
    } catch (error) {
      // Only the admin page depends on it: say so once, keep trying.
      if (!failing) log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not announce the cluster view');
      failing = true;
    }
  };

  return {
    async start() {
      if (timer !== undefined) return;
      void announce();
      timer = setInterval(() => void announce(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await directory.withdraw(instanceId).catch(() => undefined);
    },
    self,
    async cluster() {
      const mine = await self();
      const others = (await directory.list())
        .filter((v) => v.instanceId !== instanceId)
        .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
      return { instanceId, partitions, directory: directory.kind, instances: [mine, ...others] };
    },
  };
}
