import { AnyRecordSchema } from '../../protocol/envelope';
import { UnavailableError, ValidationError, type ChatError } from '../../domain/errors';
import type { OutboundRecord } from '../../ports/bus';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { toBusError } from './kafka-errors';
import type { InboxPresence } from './inbox-presence';
import type { KafkaProducer, WireRecord } from './kafka-producer';
import type { OwnInbox } from './own-inbox';

/**
 * The bus's publish path: one call writes one handler's output (replies, relays, room
 * events) to Kafka, or hands it to this instance's own inbox listener.
 *
 * Guarantees:
 * - nothing invalid reaches Kafka: every record is checked against its schema first, and
 *   one bad record refuses the whole publish (VALIDATION) before anything is written;
 * - a publish that resolves has durably written (acks=all) every record it was given,
 *   except those for inboxes that are gone (dropped, counted in chat_inbox_gone_total,
 *   logged once per topic) and those held for an inbox not yet listed (below);
 * - records for this instance's own inbox are delivered in-process, only after the rest
 *   of their publish is written and in publish order (own-inbox.ts);
 * - a publish that rejects wrote nothing the caller can rely on: it retries the whole
 *   output with the same envelope ids (at-least-once). Every record it held for Kafka
 *   is counted in chat_produce_failures_total under the error's code, the same unit as
 *   chat_records_produced_total, so the two make a ratio;
 * - records for an inbox no listing shows yet are held apart and off the caller's path
 *   (inbox-presence.ts): kafkajs is never handed a topic it has no metadata for (one
 *   such topic fails every metadata refresh of the producer), and the partition whose
 *   output they are does not wait up to the grace for them. They are written once the
 *   inbox is listed and dropped once it is gone; a held record that then fails is logged
 *   and counted, and its socket's resume covers the message.
 */
export interface KafkaPublisher {
  publish(records: readonly OutboundRecord[]): Promise<void>;
}

export interface KafkaPublisherOptions {
  producer: Pick<KafkaProducer, 'isConnected' | 'publish'>;
  ownInbox: OwnInbox;
  inboxPresence: InboxPresence;
  /** Whether a topic is an instance's inbox (by the deployment's inbox prefix). */
  isInboxTopic: (topic: string) => boolean;
  metrics: Metrics;
  logger: Logger;
}

/** Envelope to wire: the record as JSON, and only the headers that are set. */
function toWire(r: OutboundRecord): WireRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k] = v;
  return { topic: r.topic, key: r.key, value: JSON.stringify(r.record), headers };
}

export function createKafkaPublisher({
  producer,
  ownInbox,
  inboxPresence,
  isInboxTopic,
  metrics,
  logger,
}: KafkaPublisherOptions): KafkaPublisher {
  // Inbox topics seen missing, logged once each.
  const goneLogged = new Set<string>();

  const failed = (error: ChatError, count: number): ChatError => {
    metrics.produceFailures.inc({ code: error.code }, count);
    return error;
  };

  /** Records for inboxes that were deleted (their instances left) are dropped: see inbox-presence.ts. */
  const withoutGone = (batch: readonly OutboundRecord[], gone: ReadonlySet<string>): readonly OutboundRecord[] => {
    if (gone.size === 0) return batch;
    for (const r of batch) if (gone.has(r.topic)) metrics.inboxGone.inc({ type: r.record.type });
    const fresh = [...gone].filter((t) => !goneLogged.has(t));
    if (fresh.length > 0) {
      for (const t of fresh) goneLogged.add(t);
      logger.warn({ topics: fresh }, 'records for inbox topics that no longer exist (their instances left) dropped');
    }
    return batch.filter((r) => !gone.has(r.topic));
  };

  const produce = async (batch: readonly OutboundRecord[]): Promise<void> => {
    if (batch.length === 0) return;
    if (!producer.isConnected()) throw failed(new UnavailableError('the Kafka producer is not connected'), batch.length);
    try {
      await producer.publish(batch.map(toWire));
    } catch (error) {
      // An inbox among them may have been deleted since it was seen: look again next time.
      if (batch.some((r) => isInboxTopic(r.topic))) inboxPresence.invalidate();
      throw failed(toBusError(error, 'produce failed'), batch.length);
    }
    for (const r of batch) metrics.recordsProduced.inc({ type: r.record.type });
  };

  /** Held records: written once their inboxes are listed, dropped once gone; never awaited by the caller. */
  const holdUntilListed = (held: readonly OutboundRecord[], unsure: ReadonlySet<string>): void => {
    if (held.length === 0) return;
    void inboxPresence
      .settle(unsure)
      .then((gone) => produce(withoutGone(held, gone)))
      .catch((err: unknown) =>
        logger.warn(
          { topics: [...unsure], err: err instanceof Error ? err.message : String(err) },
          'records held for an unlisted inbox not written',
        ),
      );
  };

  return {
    async publish(records) {
      if (records.length === 0) return;
      const { local, remote } = ownInbox.split(records);
      for (const r of remote) {
        if (!AnyRecordSchema.safeParse(r.record).success) {
          throw failed(new ValidationError(`refusing to produce an invalid ${r.record.type} record`), remote.length);
        }
      }
      const unsure = inboxPresence.unconfirmed(remote.map((r) => r.topic));
      holdUntilListed(
        remote.filter((r) => unsure.has(r.topic)),
        unsure,
      );
      const sure = remote.filter((r) => !unsure.has(r.topic));
      const ready = withoutGone(sure, await inboxPresence.absent(sure.map((r) => r.topic)));
      // Records to this instance's own sockets follow the ready ones (own-inbox.ts).
      await ownInbox.deliverAfter(produce(ready), local);
    },
  };
}
