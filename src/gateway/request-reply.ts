import { randomUUID } from 'node:crypto';
import { TimeoutError } from '../domain/errors';
import type { InboxRecord, RequestRecord } from '../protocol/envelope';
import { Headers } from '../protocol/headers';
import type { Bus, InboundRecord } from '../ports/bus';
import type { Metrics } from '../observability/metrics';

interface Pending {
  readonly resolve: (record: InboxRecord) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly type: string;
  readonly started: number;
}

export interface RequestReply {
  /**
   * Produces `record` to `topic` keyed by its userId with reply-topic and correlation-id
   * headers, and resolves with the reply that arrives on this instance's inbox. Rejects with
   * TimeoutError (504) when none arrives in time; a late reply is then counted and dropped.
   */
  request(topic: string, record: RequestRecord): Promise<InboxRecord>;
  /** Feeds an inbox record; returns false when no request waits for it. */
  settle(record: InboundRecord<InboxRecord>): boolean;
  /** Rejects everything still waiting (shutdown). */
  close(): void;
  pendingCount(): number;
}

/** Request-reply over Kafka, Spring ReplyingKafkaTemplate style: one reply topic per instance. */
export function createRequestReply({
  bus,
  replyTopic,
  timeoutMs = 5_000,
  metrics,
}: {
  bus: Bus;
  /** This instance's inbox topic. */
  replyTopic: string;
  /** How long to wait for a reply. Default 5 s. */
  timeoutMs?: number;
  metrics: Metrics;
}): RequestReply {
  const pending = new Map<string, Pending>();
  const observe = (p: Pending, outcome: string): void => {
    metrics.requestReplyLatency.observe({ type: p.type, outcome }, (Date.now() - p.started) / 1000);
  };

  return {
    async request(topic, record) {
      const correlationId = randomUUID();
      const reply = new Promise<InboxRecord>((resolve, reject) => {
        const timer = setTimeout(() => {
          const p = pending.get(correlationId);
          pending.delete(correlationId);
          if (p !== undefined) observe(p, 'timeout');
          reject(new TimeoutError(`no reply to ${record.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(correlationId, { resolve, reject, timer, type: record.type, started: Date.now() });
      });
      try {
        await bus.publish([
          { topic, key: record.userId, record, headers: { [Headers.correlationId]: correlationId, [Headers.replyTopic]: replyTopic } },
        ]);
      } catch (error) {
        const p = pending.get(correlationId);
        if (p !== undefined) clearTimeout(p.timer);
        pending.delete(correlationId);
        throw error;
      }
      return reply;
    },
    settle(inbound) {
      const correlationId = inbound.headers[Headers.correlationId];
      const p = correlationId === undefined ? undefined : pending.get(correlationId);
      if (p === undefined || correlationId === undefined) {
        metrics.repliesUnmatched.inc({ type: inbound.record.type });
        return false;
      }
      pending.delete(correlationId);
      clearTimeout(p.timer);
      observe(p, 'reply');
      p.resolve(inbound.record);
      return true;
    },
    close() {
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new TimeoutError('instance shutting down'));
        pending.delete(id);
      }
    },
    pendingCount: () => pending.size,
  };
}
