import type { RecordOf } from '../protocol/envelope';

/**
 * Record types an outbox row may hold. Each one fixes the topic the relay produces it to
 * (src/relay/outbox-relay.ts): `deliver` goes to the chat-request topic, keyed by the
 * member, so the member's owner relays it to the member's sockets in per-user order.
 */
export const OUTBOX_RECORD_TYPES = ['deliver'] as const;
export type OutboxRecordType = (typeof OUTBOX_RECORD_TYPES)[number];

/** A row to write in the same transaction as the change it reports. */
export interface NewOutboxEntry {
  /** The Kafka record's id: the same on every relay attempt. */
  readonly id: string;
  /** What the change is about (the room id). */
  readonly aggregateId: string;
  readonly recordType: OutboxRecordType;
  /** The partition key: the userId of the member to tell. */
  readonly key: string;
  readonly payload: RecordOf<OutboxRecordType>['payload'];
}
