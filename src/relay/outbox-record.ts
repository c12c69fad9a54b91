import { assertNever } from '../domain/assert-never';
import { AnyRecordSchema, ENVELOPE_VERSION } from '../protocol/envelope';
import type { OutboundRecord } from '../ports/bus';
import { OUTBOX_RECORD_TYPES, type OutboxEntry, type OutboxRecordType } from '../ports/outbox';

const isOutboxRecordType = (type: string): type is OutboxRecordType => (OUTBOX_RECORD_TYPES as readonly string[]).includes(type);

/** Where each outbox record type goes. */
export function outboxTopic(type: OutboxRecordType, topics: { readonly chat: string }): string {
  switch (type) {
    case 'deliver':
      // Keyed by the member: the member's owner relays it, in that member's order.
      return topics.chat;
    default:
      return assertNever(type, 'outbox record type');
  }
}

/**
 * The record an outbox row stands for: the envelope with the row's id (so every relay
 * attempt produces the same record id), its key as userId and partition key, and its commit
 * time as ts. Undefined when the row cannot be produced — an unknown type, or a payload the
 * envelope schema refuses — which only a bug or a hand-edited row can cause: no retry helps.
 */
export function outboxRecord(entry: OutboxEntry, topics: { readonly chat: string }): OutboundRecord | undefined {
  if (!isOutboxRecordType(entry.recordType)) return undefined;
  const parsed = AnyRecordSchema.safeParse({
    v: ENVELOPE_VERSION,
    id: entry.id,
    type: entry.recordType,
    userId: entry.key,
    ts: entry.createdAt,
    payload: entry.payload,
  });
  if (!parsed.success || parsed.data.type !== entry.recordType) return undefined;
  return { topic: outboxTopic(entry.recordType, topics), key: entry.key, record: parsed.data };
}
