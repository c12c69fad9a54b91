import type { Admin } from 'kafkajs';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

export interface OwnerLagOptions {
  /** Connected by the caller. */
  readonly admin: Admin;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** The partitions whose lag this member reports (the owned ones). */
  readonly owned: () => readonly number[];
  /** How often the lag is re-read. Default 5 s. */
  readonly intervalMs?: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface OwnerLag {
  /** Re-reads the lag once; resolves when the gauges are set (rejects on an admin failure). */
  refresh(): Promise<void>;
  /** Refreshes every intervalMs until stop(); the timer does not keep the process alive. */
  start(): void;
  stop(): void;
}

/**
 * The owner group's lag, re-read from Kafka: high watermark minus the group's committed
 * offset, what kafka-consumer-groups --describe shows. The per-record gauge (set from each
 * fetch's high watermark) stands still while a partition waits on one record (a stalled
 * database), which is exactly when lag matters; this one does not. It costs three admin
 * round trips per refresh, and none while this member owns nothing.
 */
export function createOwnerLag({ admin, groupId, topics, owned, intervalMs = 5_000, metrics, logger }: OwnerLagOptions): OwnerLag {
  let timer: NodeJS.Timeout | undefined;
  const refresh = async (): Promise<void> => {
    const mine = new Set(owned());
    if (mine.size === 0) return;
    const [committed, ...ends] = await Promise.all([
      admin.fetchOffsets({ groupId, topics: [...topics] }),
      ...topics.map((t) => admin.fetchTopicOffsets(t)),
    ]);
    topics.forEach((topic, k) => {
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends[k] ?? []) {
        if (!mine.has(end.partition)) continue;
        const offset = Number(done.find((p) => p.partition === end.partition)?.offset ?? -1);
        // No commit yet: the group reads from the beginning (fromBeginning), so all of it is lag.
        const from = offset >= 0 ? offset : Number(end.low);
        metrics.consumerLag.set({ source: 'owner', topic, partition: String(end.partition) }, Math.max(0, Number(end.high) - from));
      }
    });
  };
  return {
    refresh,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(
        () =>
          void refresh().catch((error: unknown) =>
            logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'lag refresh failed'),
          ),
        intervalMs,
      );
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
