import type { ChatError } from '../domain/errors';
import type { RoomKind } from '../protocol/frames';
import type { Message } from '../protocol/message';
import type { Outbox } from './outbox';
import type { RefreshTokenStore } from './refresh-token-store';
import type { HealthCheck, Service } from './service';

export interface StoredUser {
  readonly userId: string;
  readonly displayName: string;
  readonly passwordHash: string;
}

/** A user as anyone may see it (search results). */
export interface UserListing {
  readonly userId: string;
  readonly displayName: string;
}

export interface RoomSummary {
  readonly roomId: string;
  readonly name: string;
  /** Member userIds, sorted. */
  readonly members: readonly string[];
  /** The last sequence number handed out in the room (0 for none). */
  readonly lastSeq: number;
  /** A group room, or the one direct room of a pair (`openDm`). */
  readonly kind: RoomKind;
}

/** A page of a user's rooms (`listRooms`). */
export interface RoomPage {
  /** Only rooms after this one in the listing order (the last room of the previous page). */
  readonly afterRoomId?: string;
  /** At most this many; all when absent. */
  readonly limit?: number;
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
 * - `createRoom`, `openDm` when it creates the room, `addMember` when the member is new,
 *   `renameRoom` when the name changes and `removeMember` write the change's outbox rows
 *   (domain/room-changes.ts: a `room` frame for every member, and for the removed member)
 *   in the same transaction as the change, for the outbox relay to produce: nothing is
 *   lost if the process dies between the commit and the produce;
 * - membership changes are seen at once: an `appendMessages`, a `roomMembers` or a
 *   `coMembers` that starts after `removeMember` resolved no longer counts the member;
 * - a direct room (`kind` dm) keeps its two members and its name: `addMember`,
 *   `renameRoom` and `removeMember` refuse it with ROOM_IS_DM;
 * - failures are ChatErrors with stable codes (USER_EXISTS, USER_NOT_FOUND,
 *   ROOM_NOT_FOUND, NOT_A_MEMBER, NOT_ROOM_CREATOR, MEMBER_NOT_FOUND, ROOM_IS_DM,
 *   DM_WITH_SELF); an unreachable database is a retriable UnavailableError.
 */
export interface ChatStore extends Service {
  createUser(user: StoredUser): Promise<void>;
  findUser(userId: string): Promise<StoredUser | undefined>;
  /**
   * Users whose userId or displayName starts with `prefix`, ignoring case; `%`, `_` and `\`
   * in the prefix are plain characters, not wildcards. Ordered by userId (code-point
   * order), at most `limit` of them.
   */
  searchUsers(prefix: string, limit: number): Promise<UserListing[]>;

  /**
   * Creates a room whose members are the creator plus `members`; USER_NOT_FOUND if any does
   * not exist. Writes a `created` room change to the outbox with it.
   */
  createRoom(room: { roomId: string; name: string; createdBy: string; members: readonly string[] }): Promise<RoomSummary>;
  /**
   * The direct room of `userId` and `otherUserId`, created (with `roomId`, kind dm, both as
   * members, and a `created` room change in the outbox) unless the pair has one already.
   * Exactly one room per unordered pair, also when both users ask at once on different
   * instances: the pair's key is unique in the database, and the call that loses the race
   * returns the winner's room with `created: false`. DM_WITH_SELF when both are the same
   * user, USER_NOT_FOUND when either does not exist (nothing written).
   */
  openDm(dm: { roomId: string; userId: string; otherUserId: string }): Promise<{ room: RoomSummary; created: boolean }>;
  /**
   * Rooms the user is a member of, oldest first by (creation time, roomId): a total order
   * that never changes, so paging with `afterRoomId` (the last room of the previous page)
   * lists every room the user is in throughout exactly once, whatever is created meanwhile.
   * `afterRoomId` must name an existing room (any, member or not), else VALIDATION.
   */
  listRooms(userId: string, page?: RoomPage): Promise<RoomSummary[]>;
  /** The room, or undefined. */
  getRoom(roomId: string): Promise<RoomSummary | undefined>;
  /**
   * Adds `userId` to the room on behalf of `byUserId`, who must be a member
   * (NOT_A_MEMBER); ROOM_NOT_FOUND, ROOM_IS_DM, USER_NOT_FOUND. Adding a member twice is a no-op;
   * returns whether the member was new. A new member writes a `member.added` room change
   * to the outbox with it.
   */
  addMember(roomId: string, byUserId: string, userId: string): Promise<boolean>;
  /**
   * Renames the room on behalf of `byUserId`, a member (ROOM_NOT_FOUND, NOT_A_MEMBER,
   * ROOM_IS_DM, checked in that order). A new name writes a `renamed` room change to the
   * outbox with it; the same name changes nothing. Returns the room after it.
   */
  renameRoom(roomId: string, byUserId: string, name: string): Promise<RoomSummary>;
  /**
   * Removes `userId` from the room on behalf of `byUserId`: the user itself (leaving) or
   * the room's creator. Checked in this order: ROOM_NOT_FOUND; NOT_A_MEMBER (the caller is
   * not a member); ROOM_IS_DM; NOT_ROOM_CREATOR (someone else, and the caller is not the
   * creator); MEMBER_NOT_FOUND (the user is not a member). Writes a `member.removed` room
   * change (to the members left and to the removed user) with it. Serialised with appends
   * to the room (its row lock): from the commit on, the user is neither sent nor allowed
   * to read the room.
   */
  removeMember(roomId: string, byUserId: string, userId: string): Promise<void>;
  /** Member userIds of a room, sorted; undefined when the room does not exist. */
  roomMembers(roomId: string): Promise<string[] | undefined>;
  /** Everyone who shares at least one room with the user (not the user), sorted. */
  coMembers(userId: string): Promise<string[]>;
  /**
   * The first `limit` of `coMembers(userId)` in the same (userId) order: a bounded read for
   * the presence snapshot (owner/presence-snapshot.ts), so a user in huge rooms costs at
   * most `limit` rows. Read-only and repeatable: the same membership gives the same answer;
   * `limit` 0 answers []. A caller that asks for one more than it lists learns whether
   * there are more.
   */
  firstCoMembers(userId: string, limit: number): Promise<string[]>;

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
  /** Refresh-token families, in the same database (ports/refresh-token-store.ts). */
  readonly refreshTokens: RefreshTokenStore;

  health(): Promise<HealthCheck>;
}
