import type { InboxRecord, AnyRecord, RequestRecord } from '../protocol/envelope';
import type { RecordHeaders } from '../protocol/headers';
import type { HealthCheck, Service } from './service';

/** A validated record as a consumer sees it. */
export interface InboundRecord<R> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly record: R;
  readonly headers: RecordHeaders;
}

export interface OutboundRecord {
  readonly topic: string;
  /** The userId the record is about: it picks the partition, hence the owner. */
  readonly key: string;
  readonly record: AnyRecord;
  readonly headers?: RecordHeaders;
}

/**
 * What handling a record left in flight: `published` settles once every record the
 * handler produced is durable, and rejects (retriably) if one could not be written.
 *
 * Why: a handler that waited for its produce before returning would hold its partition
 * for a full acks=all round trip per record. Returning this instead lets the partition go
 * on to its next record while the output is written (the producer batches it with other
 * partitions' output); the bus commits an offset only after the record's `published`
 * resolved, so nothing is committed that is not written.
 */
export interface Handled {
  readonly published: Promise<void>;
}

/**
 * What the owner role plugs into the bus.
 *
 * Guarantees the bus gives the listener:
 * - ordering: records of one partition arrive one at a time in offset order, so records
 *   of one user (one key) are handled in the order they were produced;
 * - co-partitioning: partition p of every request topic is owned by the same member;
 * - at-least-once: an offset is committed only after `onRecord` resolved for it and the
 *   `published` it returned (if any) resolved, so a record may be seen again after a
 *   crash, a rebalance or a failed produce (handlers must be idempotent), but is never
 *   skipped;
 * - output order: what handlers publish is produced in the order it was published; when
 *   a produce fails, the partition goes back to the first record whose output was not
 *   written and handles it again (output of later records may then appear twice);
 * - failure routing: a record that fails validation, or whose handler throws a
 *   non-retriable error, goes to `<topic>.dlt` with the error in headers and the partition
 *   moves on; a retriable error is retried with capped exponential backoff (heartbeats
 *   continue), for as long as the partition stays owned;
 * - `onAssigned` runs before the first record of a newly owned partition is handed over,
 *   and when it returns a promise, that partition's records wait until it settles (the
 *   member keeps heartbeating meanwhile): it should bound its own wait;
 * - a member stops handling a partition's records before the rebalance that may move it
 *   completes, so two members never handle one partition at once; `onRevoked` then names
 *   exactly the partitions that moved away, and their users' state may be dropped there
 *   (it may run after the new owner's `onAssigned`: the old state is no longer used).
 */
export interface OwnerGroupListener {
  onRecord(record: InboundRecord<RequestRecord>): Promise<Handled | void>;
  onAssigned(partitions: readonly number[]): void | Promise<void>;
  onRevoked(partitions: readonly number[]): void | Promise<void>;
}

/** Records addressed to this instance (replies, deliveries). Same ordering as above. */
export type InboxListener = (record: InboundRecord<InboxRecord>) => Promise<void>;

/** An instance's inbox topic and consumer group, listed and deleted by instance id. */
export interface InboxTopics {
  /** Ids of the instances that have an inbox topic (dead-letter topics excluded). */
  list(): Promise<string[]>;
  /** Deletes that instance's inbox topic and group; one already gone is not an error. */
  delete(instanceId: string): Promise<void>;
}

export interface OwnerGroupStatus {
  readonly state: 'idle' | 'joining' | 'joined' | 'stopped';
  readonly memberId: string | undefined;
  readonly partitions: readonly number[];
}

/**
 * The message bus port: a small surface over Kafka, with an in-memory twin for unit tests
 * and the single-process default. Both pass the same contract suite (test/contract).
 */
export interface Bus extends Service {
  readonly kind: 'kafka' | 'memory';
  /** The inbox topic of an instance: replies and deliveries for it go there, and only it reads them. */
  inboxTopicOf(instanceId: string): string;
  /**
   * The inbox topics that exist, for the inbox janitor (gateway/inbox-janitor.ts). Only a
   * bus whose inboxes outlive their instance has it (Kafka); the memory bus has none.
   */
  readonly inboxes?: InboxTopics;
  /**
   * Produces records; resolves once every record is durably written (acks=all on Kafka).
   * Records with the same topic and key keep their order. Rejects with a retriable
   * ChatError when the bus cannot take them: nothing is reported written that was not.
   * Answers in bounded time (Kafka: KAFKA_PRODUCE_TIMEOUT_MS): UNAVAILABLE means not
   * written; TIMEOUT means perhaps written. A record may be written more than once, with
   * the same envelope id (at-least-once).
   */
  publish(records: readonly OutboundRecord[]): Promise<void>;
  /** Sets the listener of this instance's inbox, read from start() on. Call at most once, before start(): both buses take the listener in start(), and one set later is never called. */
  openInbox(listener: InboxListener): void;
  /** Joins the owner group over the request topics. Call at most once, before start(). */
  joinOwnerGroup(listener: OwnerGroupListener): void;
  ownerStatus(): OwnerGroupStatus;
  health(): Promise<HealthCheck>;
}
