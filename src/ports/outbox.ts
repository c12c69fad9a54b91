// What a row is, is domain (room changes produce rows); the port moves rows.
export { OUTBOX_RECORD_TYPES, type NewOutboxEntry, type OutboxRecordType } from '../domain/outbox-entry';

/** A pending row as the relay sees it. The payload is as stored: the relay validates it before producing. */
export interface OutboxEntry {
  readonly id: string;
  readonly aggregateId: string;
  /** As stored; the relay refuses a type it does not know. */
  readonly recordType: string;
  readonly key: string;
  readonly payload: unknown;
  /** Epoch ms of the commit that wrote it (the database clock). */
  readonly createdAt: number;
}

export interface OutboxBacklog {
  readonly pending: number;
  /** Epoch ms of the oldest pending row; undefined when none. */
  readonly oldestCreatedAt: number | undefined;
}

/**
 * The read side of the transactional outbox. Rows are written by the ChatStore methods
 * whose changes members must hear about (createRoom, addMember), in the same transaction as
 * the change: a change is never committed without its rows, nor its rows without it.
 *
 * Guarantees:
 * - `relay` claims up to `limit` pending rows in the order they were written, skipping rows
 *   another claimer holds right now (PostgreSQL's FOR UPDATE SKIP LOCKED), so any number of
 *   instances may relay at once without handing one row to two of them at the same time;
 * - a row is deleted only after `publish` resolved for it (delete-on-publish); if `publish`
 *   rejects, or the process dies meanwhile, every claimed row stays pending and is offered
 *   again by a later call, and the rejection propagates;
 * - hence at-least-once: a row can be published more than once (its publish succeeded but
 *   the delete did not commit), always with the same id, so consumers must be idempotent
 *   (a `room` frame is a snapshot with a change id; redelivering it changes nothing);
 * - no order between rows claimed by different relays: a member can hear about two changes
 *   in either order when two instances relay at once (frames carry snapshots for that reason);
 * - an unreachable database is a retriable UnavailableError.
 */
export interface Outbox {
  relay(limit: number, publish: (entries: readonly OutboxEntry[]) => Promise<void>): Promise<number>;
  /** How much is waiting, for the relay's metrics. */
  backlog(): Promise<OutboxBacklog>;
}
