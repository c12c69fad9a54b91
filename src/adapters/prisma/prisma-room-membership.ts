import type { Prisma } from '../../generated/prisma/client';
import { directRoomKey, directRoomName } from '../../domain/direct-rooms';
import { ChatError } from '../../domain/errors';
import type { ChatStore } from '../../ports/chat-store';
import { writeRoomChange } from './prisma-outbox';
import { roomSummarySelect, sorted, toSummary } from './prisma-rows';

type Transaction = <T>(what: string, body: (tx: Prisma.TransactionClient) => Promise<T>) => Promise<T>;

/** The room row, locked until the transaction ends; ROOM_NOT_FOUND when there is none. */
async function lockRoom(tx: Prisma.TransactionClient, roomId: string): Promise<{ kind: string; createdBy: string }> {
  // The same row lock appendMessages takes: a membership change waits for an append in
  // flight in the room, and an append that starts after it commits reads the new members.
  const rows = await tx.$queryRaw<{ kind: string; created_by: string }[]>`
    SELECT kind::text AS kind, created_by FROM rooms WHERE id = ${roomId} FOR UPDATE`;
  const row = rows[0];
  if (row === undefined) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
  return { kind: row.kind, createdBy: row.created_by };
}

async function isMember(tx: Prisma.TransactionClient, roomId: string, userId: string): Promise<boolean> {
  return (await tx.membership.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { userId: true } })) !== null;
}

/**
 * The v1.1 room operations of the Prisma store (ports/chat-store.ts): direct rooms, rename,
 * remove a member. Each is one transaction with its outbox rows; rename and remove lock
 * the room row, so changes of one room are applied, and reported, one at a time.
 */
export function createPrismaRoomMembership({
  transaction,
}: {
  transaction: Transaction;
}): Pick<ChatStore, 'openDm' | 'renameRoom' | 'removeMember'> {
  return {
    async openDm({ roomId, userId, otherUserId }) {
      if (userId === otherUserId) throw new ChatError('DM_WITH_SELF', 'a direct room needs another user');
      const dmKey = directRoomKey(userId, otherUserId);
      return transaction('open dm', async (tx) => {
        const found = new Set(
          (await tx.user.findMany({ where: { id: { in: [userId, otherUserId] } }, select: { id: true } })).map((u) => u.id),
        );
        const missing = sorted([userId, otherUserId].filter((id) => !found.has(id)));
        if (missing.length > 0) throw new ChatError('USER_NOT_FOUND', `unknown users: ${missing.join(', ')}`, { details: { missing } });
        // INSERT … ON CONFLICT DO NOTHING on the unique dm_key: a concurrent call for the
        // same pair waits here for the winner's commit, then inserts nothing and reads it.
        const { count } = await tx.room.createMany({
          data: [{ id: roomId, name: directRoomName(userId, otherUserId), createdBy: userId, kind: 'dm', dmKey }],
          skipDuplicates: true,
        });
        if (count === 0) {
          const existing = await tx.room.findUnique({ where: { dmKey }, select: roomSummarySelect });
          if (existing === null) throw new ChatError('INTERNAL', `room id ${roomId} already exists`);
          return { room: toSummary(existing), created: false };
        }
        await tx.membership.createMany({ data: [userId, otherUserId].map((id) => ({ roomId, userId: id })) });
        const room = toSummary(await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: roomSummarySelect }));
        await writeRoomChange(tx, { event: 'created', room, by: userId });
        return { room, created: true };
      });
    },

    async renameRoom(roomId, byUserId, name) {
      return transaction('rename room', async (tx) => {
        const { kind } = await lockRoom(tx, roomId);
        if (!(await isMember(tx, roomId, byUserId))) throw new ChatError('NOT_A_MEMBER', `${byUserId} is not a member of room ${roomId}`);
        if (kind === 'dm') throw new ChatError('ROOM_IS_DM', 'a direct room cannot be renamed');
        const before = await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: { name: true } });
        if (before.name === name) return toSummary(await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: roomSummarySelect }));
        const room = toSummary(await tx.room.update({ where: { id: roomId }, data: { name }, select: roomSummarySelect }));
        await writeRoomChange(tx, { event: 'renamed', room, by: byUserId });
        return room;
      });
    },

    async removeMember(roomId, byUserId, userId) {
      await transaction('remove member', async (tx) => {
        const { kind, createdBy } = await lockRoom(tx, roomId);
        if (!(await isMember(tx, roomId, byUserId))) throw new ChatError('NOT_A_MEMBER', `${byUserId} is not a member of room ${roomId}`);
        if (kind === 'dm') throw new ChatError('ROOM_IS_DM', 'nobody can leave or be removed from a direct room');
        if (byUserId !== userId && byUserId !== createdBy)
          throw new ChatError('NOT_ROOM_CREATOR', 'only the room creator may remove someone else');
        const { count } = await tx.membership.deleteMany({ where: { roomId, userId } });
        if (count === 0) throw new ChatError('MEMBER_NOT_FOUND', `${userId} is not a member of room ${roomId}`);
        const room = toSummary(await tx.room.findUniqueOrThrow({ where: { id: roomId }, select: roomSummarySelect }));
        await writeRoomChange(tx, { event: 'member.removed', room, by: byUserId, member: userId });
      });
    },
  };
}
