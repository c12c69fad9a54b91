import type { ChatError } from '../domain/errors';
import type { Message } from '../protocol/message';
import type { Outbox } from './outbox';
import type { HealthCheck, Service } from './service';

export interface StoredUser {
  readonly userId: string;
  readonly displayName: string;
  readonly passwordHash: string;
}

export interface RoomSummary {
  readonly roomId: string;
  readonly name: string;
  /** Member userIds, sorted. */
  readonly members: readonly string[];
  /** The last sequence number handed out in the room (0 for none). */
  readonly lastSeq: number;
}

export interface NewMessage {
  /** The message id; the id of the request record that first carried it. */
  readonly id: string;
  readonly roomId: string;
  readonly senderId: string;
  readonly clientMsgId: string;
  /** The text; '' for a delete. */
  readonly text: string;
  /**
   * An edit or delete event (api.md v1.1): the id of the original message it changes, in
   * the same room and by the same sender. Absent for a plain message.
   */
  readonly edits?: string | undefined;
  /** With `edits`: a delete (text ''), not an edit. */
  readonly deleted?: boolean | undefined;
}

/**
 * What `appendMessages` did with one message: stored (or found stored), with the room's
 * members as of that write; or refused with a non-retriable ChatError (ROOM_NOT_FOUND,
 * NOT_A_MEMBER; for an edit or delete MESSAGE_NOT_FOUND, NOT_MESSAGE_SENDER,
 * MESSAGE_NOT_EDITABLE, MESSAGE_DELETED; or INTERNAL for a message the database cannot
 * store, e.g. a NUL in the text).
 */
export type AppendOutcome =
  | { readonly ok: true; readonly message: Message; readonly created: boolean; readonly members: readonly string[] }
  | { readonly ok: false; readonly error: ChatError };

export interface MessageQuery {
  /** Only messages with seq > afterSeq. */
  readonly afterSeq?: number;
  /** Only messages with seq < beforeSeq. */
  readonly beforeSeq?: number;
  /** At most this many (1..200). With only beforeSeq, the newest ones before it. */
  readonly limit: number;
}

/**
 * The relational store (PostgreSQL through Prisma; an in-memory twin for unit tests and
 * the single-process default). Both pass the same contract suite (test/contract).
 *
 * Guarantees:
 * - every method is atomic;
 * - `appendMessages` writes a list of messages in one round trip, atomically, with the
 *   outcome of each as if they had been appended one by one in list order:
 *   - idempotent on (senderId, clientMsgId): the first append of a pair stores the message
 *     with the room's next sequence number (lastSeq + 1, strictly +1 per room even when
 *     callers on different instances append to one room at once) and reports
 *     `created: true`; any later append of the pair (in the same list or a later call)
 *     reports the stored message unchanged with `created: false`;
 *   - the sender must be a member of the room (checked in the same write): a refused
 *     entry writes nothing, takes no sequence number and does not affect the others;
 *   - an edit or delete event (`edits` set) is a message like any other — the room's next
 *     seq, the same idempotency on (senderId, clientMsgId) — stored only if, in the same
 *     write, its target exists in that room (else MESSAGE_NOT_FOUND), was sent by the
 *     same sender (NOT_MESSAGE_SENDER), is an original and not itself an event
 *     (MESSAGE_NOT_EDITABLE) and is not deleted (MESSAGE_DELETED), checked in that order
 *     after the membership. With the event the write marks the original so that reading it
 *     back gives its current state: an edit sets its text and `editedAt`; a delete sets
 *     `deleted` and empties its text and the text of its earlier edit events (a deleted
 *     message's words are gone from the archive). Entries of one list see the entries before
 *     them (an edit of a message appended earlier in the list, a delete after an edit);
 *   - messages read back (`listMessages`, the stored message of a repeat) carry `edits`,
 *     `deleted` and `editedAt` as stored, absent when not set;
 *   - each stored entry carries the room's members, read in the same write, so a sender's
 *     owner learns whom to deliver to without another query;
 *   - only a retriable failure rejects the call, and then nothing of it was written, or
 *     what was (a prefix of the list, when it had to be written in parts) is found again by
 *     a retry of the list, as repeats (created false, same ids);
 * - `createRoom`, and `addMember` when the member is new, write the change's outbox rows
 *   (domain/room-changes.ts: a `room` frame for every member) in the same transaction as
 *   the change, for the outbox relay to produce: nothing is lost if the process dies
 *   between the commit and the produce;
 * - failures are ChatErrors with stable codes (USER_EXISTS, USER_NOT_FOUND,
 *   ROOM_NOT_FOUND, NOT_A_MEMBER); an unreachable database is a retriable UnavailableError.
 */
export interface ChatStore extends Service {
  createUser(user: StoredUser): Promise<void>;
  findUser(userId: string): Promise<StoredUser | undefined>;

  /**
   * Creates a room whose members are the creator plus `members`; USER_NOT_FOUND if any does
   * not exist. Writes a `created` room change to the outbox with it.
   */
  createRoom(room: { roomId: string; name: string; createdBy: string; members: readonly string[] }): Promise<RoomSummary>;
  /** Rooms the user is a member of, oldest first. */
  listRooms(userId: string): Promise<RoomSummary[]>;
  /** The room, or undefined. */
  getRoom(roomId: string): Promise<RoomSummary | undefined>;
  /**
   * Adds `userId` to the room on behalf of `byUserId`, who must be a member
   * (NOT_A_MEMBER); ROOM_NOT_FOUND, USER_NOT_FOUND. Adding a member twice is a no-op;
   * returns whether the member was new. A new member writes a `member.added` room change
   * to the outbox with it.
   */
  addMember(roomId: string, byUserId: string, userId: string): Promise<boolean>;
  /** Member userIds of a room, sorted; undefined when the room does not exist. */
  roomMembers(roomId: string): Promise<string[] | undefined>;
  /** Everyone who shares at least one room with the user (not the user), sorted. */
  coMembers(userId: string): Promise<string[]>;

  /** See the guarantees above. One outcome per message, in order. */
  appendMessages(messages: readonly NewMessage[]): Promise<AppendOutcome[]>;
  /** Messages of a room in seq order. */
  listMessages(roomId: string, query: MessageQuery): Promise<Message[]>;

  /** The outbox the room changes are written to, for the relay. */
  readonly outbox: Outbox;

  health(): Promise<HealthCheck>;
}
