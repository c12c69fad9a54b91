import { randomUUID } from 'node:crypto';
import { ChatError } from '../../domain/errors';
import { roomChangeEntries, type RoomChange } from '../../domain/room-changes';
import type { AppendOutcome, ChatStore, RoomSummary, StoredUser } from '../../ports/chat-store';
import type { Outbox, OutboxEntry } from '../../ports/outbox';
import type { Message } from '../../protocol/message';
import { checkMessageQuery } from '../../ports/message-query';

interface RoomRow {
  readonly roomId: string;
  readonly name: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly members: Set<string>;
  /** messages[i].seq === i + 1, so lastSeq === messages.length. */
  readonly messages: Message[];
  /** Read cursors of members (absent: 0); a member who leaves takes theirs along. */
  readonly readCursors: Map<string, number>;
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

const summaryOf = (room: RoomRow): RoomSummary => ({
  roomId: room.roomId,
  name: room.name,
  members: sorted(room.members),
  lastSeq: room.messages.length,
});

/**
 * The outbox in memory: rows in insertion order (= created order); a claimed row is skipped
 * by other claimers until its publish settles, as FOR UPDATE SKIP LOCKED does.
 */
function createMemoryOutbox(): Outbox & { add(change: RoomChange, createdAt: number): void } {
  const rows: OutboxEntry[] = [];
  const claimed = new Set<string>();
  return {
    add(change, createdAt) {
      for (const e of roomChangeEntries(change, randomUUID)) rows.push({ ...e, createdAt });
    },
    async relay(limit, publish) {
      const batch = rows.filter((r) => !claimed.has(r.id)).slice(0, limit);
      if (batch.length === 0) return 0;
      for (const r of batch) claimed.add(r.id);
      try {
        await publish(batch);
        const done = new Set(batch.map((r) => r.id));
        for (let i = rows.length - 1; i >= 0; i--) if (done.has(rows[i]!.id)) rows.splice(i, 1);
        return batch.length;
      } finally {
        for (const r of batch) claimed.delete(r.id);
      }
    },
    async backlog() {
      return { pending: rows.length, oldestCreatedAt: rows[0]?.createdAt };
    },
  };
}

/**
 * In-memory ChatStore: unit tests and the single-process default. Data is lost on exit.
 * Every method runs without awaiting in between, so each one is atomic (a change and its
 * outbox rows included). Rooms list oldest first by (creation time, roomId), as the Prisma
 * store does.
 */
export function createMemoryChatStore({
  now = () => Date.now(),
}: {
  /** Clock for room creation times and message timestamps. Default Date.now. */
  now?: () => number;
} = {}): ChatStore {
  const users = new Map<string, StoredUser>();
  const rooms = new Map<string, RoomRow>();
  /** (senderId, clientMsgId) → message: the idempotency key of appendMessage. */
  const bySenderMsg = new Map<string, Message>();
  const messageIds = new Set<string>();
  const pairKey = (senderId: string, clientMsgId: string) => JSON.stringify([senderId, clientMsgId]);
  const outbox = createMemoryOutbox();

  const roomOrThrow = (roomId: string): RoomRow => {
    const room = rooms.get(roomId);
    if (room === undefined) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    return room;
  };
  const assertMember = (room: RoomRow, userId: string): void => {
    if (!room.members.has(userId)) throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${room.roomId}`);
  };

  return {
    async start() {},
    async stop() {},
    async createUser(user) {
      if (users.has(user.userId)) throw new ChatError('USER_EXISTS', `user ${user.userId} already exists`);
      users.set(user.userId, { ...user });
    },
    async findUser(userId) {
      const u = users.get(userId);
      return u === undefined ? undefined : { ...u };
    },

    async createRoom({ roomId, name, createdBy, members }) {
      const all = new Set([createdBy, ...members]);
      const missing = sorted(all).filter((id) => !users.has(id));
      if (missing.length > 0) throw new ChatError('USER_NOT_FOUND', `unknown users: ${missing.join(', ')}`, { details: { missing } });
      if (rooms.has(roomId)) throw new ChatError('INTERNAL', `room ${roomId} already exists`);
      const room: RoomRow = { roomId, name, createdBy, createdAt: now(), members: all, messages: [], readCursors: new Map() };
      rooms.set(roomId, room);
      const summary = summaryOf(room);
      outbox.add({ event: 'created', room: summary, by: createdBy }, room.createdAt);
      return summary;
    },
    async listRooms(userId) {
      return [...rooms.values()]
        .filter((r) => r.members.has(userId))
        .sort((a, b) => a.createdAt - b.createdAt || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0))
        .map(summaryOf);
    },
    async getRoom(roomId) {
      const room = rooms.get(roomId);
      return room === undefined ? undefined : summaryOf(room);
    },
    async addMember(roomId, byUserId, userId) {
      const room = roomOrThrow(roomId);
      assertMember(room, byUserId);
      if (!users.has(userId)) throw new ChatError('USER_NOT_FOUND', `user ${userId} does not exist`);
      if (room.members.has(userId)) return false;
      room.members.add(userId);
      // A cursor belongs to a membership (PostgreSQL: ON DELETE CASCADE): one who comes back starts at 0.
      room.readCursors.delete(userId);
      outbox.add({ event: 'member.added', room: summaryOf(room), by: byUserId, member: userId }, now());
      return true;
    },
    async roomMembers(roomId) {
      const room = rooms.get(roomId);
      return room === undefined ? undefined : sorted(room.members);
    },
    async coMembers(userId) {
      const others = new Set<string>();
      for (const room of rooms.values()) {
        if (room.members.has(userId)) for (const m of room.members) others.add(m);
      }
      others.delete(userId);
      return sorted(others);
    },

    async markRead(userId, roomId, seq) {
      const room = roomOrThrow(roomId);
      assertMember(room, userId);
      if (seq > room.messages.length)
        throw new ChatError('READ_PAST_END', `seq ${seq} is past the last message (${room.messages.length}) of room ${roomId}`);
      const current = room.readCursors.get(userId) ?? 0;
      const moved = seq > current;
      if (moved) room.readCursors.set(userId, seq);
      return { moved, lastReadSeq: moved ? seq : current, members: sorted(room.members) };
    },
    async readCursors(userId, roomIds) {
      const out = new Map<string, number>();
      for (const roomId of roomIds) {
        const room = rooms.get(roomId);
        const seq = room?.members.has(userId) === true ? room.readCursors.get(userId) : undefined;
        if (seq !== undefined) out.set(roomId, seq);
      }
      return out;
    },

    async appendMessages(list) {
      // One at a time with no await in between: the list is atomic, in order.
      return list.map(({ id, roomId, senderId, clientMsgId, text }): AppendOutcome => {
        const key = pairKey(senderId, clientMsgId);
        const stored = bySenderMsg.get(key);
        const room = rooms.get(stored?.roomId ?? roomId);
        if (stored !== undefined)
          return { ok: true, message: { ...stored }, created: false, members: room === undefined ? [] : sorted(room.members) };
        if (room === undefined) return { ok: false, error: new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`) };
        if (!room.members.has(senderId))
          return { ok: false, error: new ChatError('NOT_A_MEMBER', `${senderId} is not a member of room ${roomId}`) };
        if (messageIds.has(id))
          return { ok: false, error: new ChatError('INTERNAL', `message id ${id} is already used by another (senderId, clientMsgId)`) };
        const message: Message = {
          id,
          roomId,
          seq: room.messages.length + 1,
          senderId,
          text,
          ts: new Date(now()).toISOString(),
          clientMsgId,
        };
        room.messages.push(message);
        bySenderMsg.set(key, message);
        messageIds.add(id);
        return { ok: true, message: { ...message }, created: true, members: sorted(room.members) };
      });
    },
    async listMessages(roomId, query) {
      checkMessageQuery(query);
      const messages = rooms.get(roomId)?.messages ?? [];
      // seq s lives at index s - 1: seq > afterSeq and seq < beforeSeq is a slice.
      const window = messages.slice(query.afterSeq ?? 0, query.beforeSeq === undefined ? undefined : Math.max(0, query.beforeSeq - 1));
      const newestFirst = query.beforeSeq !== undefined && query.afterSeq === undefined;
      const page = newestFirst ? window.slice(Math.max(0, window.length - query.limit)) : window.slice(0, query.limit);
      return page.map((m) => ({ ...m }));
    },

    outbox: { relay: (limit, publish) => outbox.relay(limit, publish), backlog: () => outbox.backlog() },

    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
