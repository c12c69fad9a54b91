import type { InboxListener, OutboundRecord } from '../../ports/bus';
import { InboxRecordSchema, type InboxRecord } from '../../protocol/envelope';
import type { RecordHeaders } from '../../protocol/headers';
import { ValidationError } from '../../domain/errors';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';

/**
 * Records an instance addresses to its own inbox (a reply to a login it forwarded to
 * itself, the relay of a message to sockets it holds itself) are handed to its inbox
 * listener in-process instead of through Kafka. On this machine every record costs the
 * brokers a replicated write and a fetch answer, and with users spread over N instances
 * about 1/N of all relays are addressed to the instance that makes them.
 *
 * Guarantees, the same the Kafka path gives those records:
 * - ordering: a publish's own-inbox records reach the listener in the order given, and
 *   after those of every earlier publish (a chain, so a later publish with nothing to
 *   produce cannot overtake an earlier one still waiting on Kafka);
 * - no delivery of output that was not written: they reach the listener only after the
 *   rest of their publish is durably produced; if that produce fails they are not
 *   delivered, and publish rejects, so the caller retries the whole output (at-least-once,
 *   same envelope ids, as a Kafka retry would give);
 * - the listener's failure does not fail the publish: an own-inbox record is a relay of
 *   output already written, and a listener failure there is logged and counted, as the
 *   inbox consumer would dead-letter it (the socket's resume covers the message).
 */
export interface OwnInbox {
  /** Own-inbox records (validated as inbox records), and the rest. */
  split(records: readonly OutboundRecord[]): { local: readonly LocalRecord[]; remote: readonly OutboundRecord[] };
  /** Delivers `local` once `produced` resolved and every earlier delivery is done. */
  deliverAfter(produced: Promise<void>, local: readonly LocalRecord[]): Promise<void>;
}

export interface LocalRecord {
  readonly key: string;
  readonly record: InboxRecord;
  readonly headers: RecordHeaders;
}

export function createOwnInbox({
  topic,
  listener,
  metrics,
  logger,
}: {
  /** This instance's inbox topic. */
  topic: string;
  /** The inbox listener while the inbox is open and joined; undefined: produce everything. */
  listener: () => InboxListener | undefined;
  metrics: Metrics;
  logger: Logger;
}): OwnInbox {
  let chain: Promise<void> = Promise.resolve();

  const deliver = async (handle: InboxListener, local: readonly LocalRecord[]): Promise<void> => {
    for (const r of local) {
      try {
        await handle({ topic, partition: 0, offset: '-1', key: r.key, record: r.record, headers: r.headers });
        // Counted as handled inbox records too, so that figure means the same on both paths.
        metrics.recordsConsumed.inc({ source: 'inbox', type: r.record.type, outcome: 'handled' });
        metrics.inboxLocal.inc({ type: r.record.type });
      } catch (error) {
        metrics.recordsConsumed.inc({ source: 'inbox', type: r.record.type, outcome: 'failed' });
        logger.error(
          { type: r.record.type, key: r.key, err: error instanceof Error ? error.message : String(error) },
          'own-inbox record failed in its listener',
        );
      }
    }
  };

  return {
    split(records) {
      if (listener() === undefined || !records.some((r) => r.topic === topic)) return { local: [], remote: records };
      const local: LocalRecord[] = [];
      const remote: OutboundRecord[] = [];
      for (const r of records) {
        if (r.topic !== topic) {
          remote.push(r);
          continue;
        }
        const parsed = InboxRecordSchema.safeParse(r.record);
        if (!parsed.success) throw new ValidationError(`refusing to send a ${r.record.type} record to an inbox`);
        local.push({ key: r.key, record: parsed.data, headers: r.headers ?? {} });
      }
      return { local, remote };
    },

    deliverAfter(produced, local) {
      const handle = listener();
      if (local.length === 0 || handle === undefined) return produced;
      const done = chain.then(() => produced).then(() => deliver(handle, local));
      // The chain only orders deliveries: a failed produce must not block later ones.
      chain = done.catch(() => undefined);
      return done;
    },
  };
}
