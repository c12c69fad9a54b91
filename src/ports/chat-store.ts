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
 * - `appendMessage` is idempotent on (senderId, clientMsgId): the first call stores the
 *   message with the room's next sequence number (lastSeq + 1, strictly +1 per room even
 *   when callers on different instances append to one room at once) and returns
 *   `created: true`; any later call with the same pair returns the stored message
 *   unchanged with `created: false`;
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

  appendMessage(message: NewMessage): Promise<{ message: Message; created: boolean }>;
  /** Messages of a room in seq order. */
  listMessages(roomId: string, query: MessageQuery): Promise<Message[]>;

  /** The outbox the room changes are written to, for the relay. */
  readonly outbox: Outbox;

  health(): Promise<HealthCheck>;
}
