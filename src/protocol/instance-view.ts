import { z } from 'zod';

/**
 * What one instance reports about itself for the cluster view (GET /api/admin/cluster and
 * the /admin page). Each instance publishes its own (ports/instance-directory); zod checks
 * what comes back from the shared directory, which other versions may have written.
 */
export const PartitionLagSchema = z.object({
  /** owner: the request topics; inbox: this instance's replies and broadcasts. */
  source: z.string(),
  topic: z.string(),
  partition: z.number().int().min(0),
  /** Records not yet handled: high watermark − next offset. */
  lag: z.number().int(),
});
export type PartitionLag = z.infer<typeof PartitionLagSchema>;

export const InstanceViewSchema = z.object({
  instanceId: z.string(),
  /** Where this instance says it listens (its own view; behind a proxy, the proxy's differs). */
  url: z.string(),
  roles: z.array(z.string()),
  bus: z.enum(['kafka', 'memory']),
  startedAt: z.string(),
  /** When this view was taken (ISO 8601). */
  reportedAt: z.string(),
  owner: z
    .object({
      state: z.string(),
      memberId: z.string().nullable(),
      /** Partitions of the request topics this instance owns. */
      partitions: z.array(z.number().int().min(0)),
      /** Users whose state this owner holds now. */
      users: z.number().int().min(0),
    })
    .nullable(),
  lag: z.array(PartitionLagSchema),
  connections: z.object({ ws: z.number().int().min(0), sse: z.number().int().min(0) }),
});
export type InstanceView = z.infer<typeof InstanceViewSchema>;

export const ClusterViewSchema = z.object({
  /** The instance that answered. */
  instanceId: z.string(),
  /** Partitions of each request topic, so a view can show unowned ones. */
  partitions: z.number().int().min(1),
  /** Where the other instances' views come from: redis (shared), or local (this instance only). */
  directory: z.enum(['redis', 'local']),
  /** This instance first (taken now), then the others by id, as last reported. */
  instances: z.array(InstanceViewSchema),
});
export type ClusterView = z.infer<typeof ClusterViewSchema>;
