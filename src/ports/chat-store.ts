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
  readonly text: string;
}

/**
 * What `appendMessages` did with one message: stored (or found stored), with the room's
 * members as of that write; or refused with a non-retriable ChatError (ROOM_NOT_FOUND,
 * NOT_A_MEMBER, or INTERNAL for a message the database cannot store, e.g. a NUL in the text).
 */
export type AppendOutcome =
  | { readonly ok: true; readonly message: Message; readonly created: boolean; readonly members: readonly string[] }
  | { readonly ok: false; readonly error: ChatError };

/** What `markRead` did with a read cursor. */
export interface ReadOutcome {
  /** Whether the cursor moved; false when `seq` was at or below it (nothing was written). */
  readonly moved: boolean;
  /** The user's cursor in the room after the call. */
  readonly lastReadSeq: number;
  /** The room's members (sorted), read in the same transaction: whom a receipt goes to. */
  readonly members: readonly string[];
}

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
 *   - each stored entry carries the room's members, read in the same write, so a sender's
 *     owner learns whom to deliver to without another query;
 *   - only a retriable failure rejects the call, and then nothing of it was written;
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

  /**
   * Moves `userId`'s read cursor in the room to `seq`, **only forward**: the cursor becomes
   * max(cursor, seq) (a missing cursor is 0). Atomic and idempotent: the same call again,
   * or one with a lower seq, writes nothing and reports `moved: false` with the cursor as
   * it is, so a redelivered record is harmless. Checked in the same transaction, each
   * refusal a non-retriable ChatError that writes nothing: ROOM_NOT_FOUND, NOT_A_MEMBER,
   * READ_PAST_END (seq > the room's lastSeq). One writer per user is expected (the user's
   * owner), but concurrent calls are still safe: the cursor never goes back. A cursor
   * belongs to a membership: it goes with it when the member leaves.
   */
  markRead(userId: string, roomId: string, seq: number): Promise<ReadOutcome>;
  /**
   * The user's read cursors in the given rooms (a room with no cursor, or not the user's,
   * is absent: read as 0). One query, whatever the number of rooms.
   */
  readCursors(userId: string, roomIds: readonly string[]): Promise<Map<string, number>>;

  /** See the guarantees above. One outcome per message, in order. */
  appendMessages(messages: readonly NewMessage[]): Promise<AppendOutcome[]>;
  /** Messages of a room in seq order. */
  listMessages(roomId: string, query: MessageQuery): Promise<Message[]>;

  /** The outbox the room changes are written to, for the relay. */
  readonly outbox: Outbox;

  health(): Promise<HealthCheck>;
}
