import { randomUUID } from 'node:crypto';
import { directRoomKey, directRoomName } from '../../domain/direct-rooms';
import { ChatError, ValidationError } from '../../domain/errors';
import { roomChangeEntries, type RoomChange } from '../../domain/room-changes';
import type { AppendOutcome, ChatStore, RoomSummary, StoredUser } from '../../ports/chat-store';
import type { Outbox, OutboxEntry } from '../../ports/outbox';
import type { RoomKind } from '../../protocol/frames';
import type { Message } from '../../protocol/message';
import { checkMessageQuery } from '../../ports/message-query';
import { createMemoryRefreshTokenStore } from './memory-refresh-token-store';
import { changeRefusal } from '../../domain/message-change';

interface RoomRow {
  readonly roomId: string;
  name: string;
  readonly kind: RoomKind;
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
  kind: room.kind,
});

/** Oldest first by (creation time, roomId), as the Prisma store lists them. */
const byAge = (a: RoomRow, b: RoomRow): number => a.createdAt - b.createdAt || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0);

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
  /** Every stored message (originals are marked in place when edited or deleted). */
  const byId = new Map<string, Message>();
  const pairKey = (senderId: string, clientMsgId: string) => JSON.stringify([senderId, clientMsgId]);
  const outbox = createMemoryOutbox();
  /** Direct room key (domain/direct-rooms) → roomId: one room per pair. */
  const directRooms = new Map<string, string>();
  const refreshTokens = createMemoryRefreshTokenStore({ userExists: (userId) => users.has(userId) });

  const roomOrThrow = (roomId: string): RoomRow => {
    const room = rooms.get(roomId);
    if (room === undefined) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    return room;
  };
  const assertMember = (room: RoomRow, userId: string): void => {
    if (!room.members.has(userId)) throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${room.roomId}`);
  };
  /** Everyone sharing a room with the user, sorted, without the user. */
  const coMembersOf = (userId: string): string[] => {
    const others = new Set<string>();
    for (const room of rooms.values()) {
      if (room.members.has(userId)) for (const m of room.members) others.add(m);
    }
    others.delete(userId);
    return sorted(others);
  };

  /** Marks the original as the event changes it, as the Prisma store's statement does. */
  const markOriginal = (room: RoomRow, original: Message, event: Message, ts: string): void => {
    if (event.deleted === true) {
      original.text = '';
      original.deleted = true;
      // The deleted message's words go from its earlier edit events too.
      for (const m of room.messages) if (m.edits === original.id) m.text = '';
    } else {
      original.text = event.text;
      original.editedAt = ts;
    }
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
    async searchUsers(prefix, limit) {
      const p = prefix.toLowerCase();
      return sorted(users.keys())
        .map((id) => users.get(id)!)
        .filter((u) => u.userId.toLowerCase().startsWith(p) || u.displayName.toLowerCase().startsWith(p))
        .slice(0, limit)
        .map((u) => ({ userId: u.userId, displayName: u.displayName }));
    },

    async createRoom({ roomId, name, createdBy, members }) {
      const all = new Set([createdBy, ...members]);
      const missing = sorted(all).filter((id) => !users.has(id));
      if (missing.length > 0) throw new ChatError('USER_NOT_FOUND', `unknown users: ${missing.join(', ')}`, { details: { missing } });
      if (rooms.has(roomId)) throw new ChatError('INTERNAL', `room ${roomId} already exists`);
      const room: RoomRow = {
        roomId,
        name,
        kind: 'group',
        createdBy,
        createdAt: now(),
        members: all,
        messages: [],
        readCursors: new Map(),
      };
      rooms.set(roomId, room);
      const summary = summaryOf(room);
      outbox.add({ event: 'created', room: summary, by: createdBy }, room.createdAt);
      return summary;
    },
    async openDm({ roomId, userId, otherUserId }) {
      if (userId === otherUserId) throw new ChatError('DM_WITH_SELF', 'a direct room needs another user');
      const missing = sorted([userId, otherUserId].filter((id) => !users.has(id)));
      if (missing.length > 0) throw new ChatError('USER_NOT_FOUND', `unknown users: ${missing.join(', ')}`, { details: { missing } });
      const key = directRoomKey(userId, otherUserId);
      const existing = directRooms.get(key);
      if (existing !== undefined) return { room: summaryOf(roomOrThrow(existing)), created: false };
      if (rooms.has(roomId)) throw new ChatError('INTERNAL', `room ${roomId} already exists`);
      const room: RoomRow = {
        roomId,
        name: directRoomName(userId, otherUserId),
        kind: 'dm',
        createdBy: userId,
        createdAt: now(),
        members: new Set([userId, otherUserId]),
        messages: [],
        readCursors: new Map(),
      };
      rooms.set(roomId, room);
      directRooms.set(key, roomId);
      const summary = summaryOf(room);
      outbox.add({ event: 'created', room: summary, by: userId }, room.createdAt);
      return { room: summary, created: true };
    },
    async listRooms(userId, { afterRoomId, limit } = {}) {
      const after = afterRoomId === undefined ? undefined : rooms.get(afterRoomId);
      if (afterRoomId !== undefined && after === undefined) throw new ValidationError('unknown room cursor');
      const mine = [...rooms.values()].filter((r) => r.members.has(userId) && (after === undefined || byAge(after, r) < 0)).sort(byAge);
      return (limit === undefined ? mine : mine.slice(0, limit)).map(summaryOf);
    },
    async getRoom(roomId) {
      const room = rooms.get(roomId);
      return room === undefined ? undefined : summaryOf(room);
    },
    async addMember(roomId, byUserId, userId) {
      const room = roomOrThrow(roomId);
      assertMember(room, byUserId);
      if (room.kind === 'dm') throw new ChatError('ROOM_IS_DM', 'a direct room cannot take more members');
      if (!users.has(userId)) throw new ChatError('USER_NOT_FOUND', `user ${userId} does not exist`);
      if (room.members.has(userId)) return false;
      room.members.add(userId);
      // A cursor belongs to a membership (PostgreSQL: ON DELETE CASCADE): one who comes back starts at 0.
      room.readCursors.delete(userId);
      outbox.add({ event: 'member.added', room: summaryOf(room), by: byUserId, member: userId }, now());
      return true;
    },
    async renameRoom(roomId, byUserId, name) {
      const room = roomOrThrow(roomId);
      assertMember(room, byUserId);
      if (room.kind === 'dm') throw new ChatError('ROOM_IS_DM', 'a direct room cannot be renamed');
      if (room.name === name) return summaryOf(room);
      room.name = name;
      const summary = summaryOf(room);
      outbox.add({ event: 'renamed', room: summary, by: byUserId }, now());
      return summary;
    },
    async removeMember(roomId, byUserId, userId) {
      const room = roomOrThrow(roomId);
      assertMember(room, byUserId);
      if (room.kind === 'dm') throw new ChatError('ROOM_IS_DM', 'nobody can leave or be removed from a direct room');
      if (byUserId !== userId && byUserId !== room.createdBy)
        throw new ChatError('NOT_ROOM_CREATOR', 'only the room creator may remove someone else');
      if (!room.members.delete(userId)) throw new ChatError('MEMBER_NOT_FOUND', `${userId} is not a member of room ${roomId}`);
      outbox.add({ event: 'member.removed', room: summaryOf(room), by: byUserId, member: userId }, now());
    },
    async roomMembers(roomId) {
      const room = rooms.get(roomId);
      return room === undefined ? undefined : sorted(room.members);
    },
    coMembers: async (userId) => coMembersOf(userId),
    firstCoMembers: async (userId, limit) => coMembersOf(userId).slice(0, Math.max(0, limit)),

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
      return list.map(({ id, roomId, senderId, clientMsgId, text, edits, deleted }): AppendOutcome => {
        const key = pairKey(senderId, clientMsgId);
        const stored = bySenderMsg.get(key);
        const room = rooms.get(stored?.roomId ?? roomId);
        if (stored !== undefined)
          return { ok: true, message: { ...stored }, created: false, members: room === undefined ? [] : sorted(room.members) };
        if (room === undefined) return { ok: false, error: new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`) };
        if (!room.members.has(senderId))
          return { ok: false, error: new ChatError('NOT_A_MEMBER', `${senderId} is not a member of room ${roomId}`) };
        const target = edits === undefined ? undefined : byId.get(edits);
        if (edits !== undefined) {
          const refusal = changeRefusal(target, { roomId, senderId, messageId: edits });
          if (refusal !== undefined) return { ok: false, error: refusal };
        }
        if (byId.has(id))
          return { ok: false, error: new ChatError('INTERNAL', `message id ${id} is already used by another (senderId, clientMsgId)`) };
        const ts = new Date(now()).toISOString();
        const message: Message = {
          id,
          roomId,
          seq: room.messages.length + 1,
          senderId,
          text: edits !== undefined && deleted === true ? '' : text,
          ts,
          clientMsgId,
          ...(edits === undefined ? {} : { edits }),
          ...(edits !== undefined && deleted === true ? { deleted: true as const } : {}),
        };
        if (target !== undefined) markOriginal(room, target, message, ts);
        room.messages.push(message);
        bySenderMsg.set(key, message);
        byId.set(id, message);
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
    refreshTokens,

    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
