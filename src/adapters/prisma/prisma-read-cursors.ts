import type { PrismaClient } from '../../generated/prisma/client';
import { ChatError } from '../../domain/errors';
import type { ChatStore } from '../../ports/chat-store';
import { constraintOf, toStoreError } from './prisma-errors';
import { sorted } from './prisma-rows';

/** The row of markRead's statement. */
interface MarkReadRow {
  /** Null: no such room. */
  last_seq: number | null;
  is_member: boolean;
  /** The cursor the statement wrote; null when it wrote nothing. */
  moved_to: number | null;
  /** The cursor before the statement (its snapshot); null when there was none. */
  previous: number | null;
  members: string[] | null;
}

/** ChatStore.markRead and readCursors on PostgreSQL (table read_cursors). */
export function createPrismaReadCursors({ prisma }: { prisma: PrismaClient }): Pick<ChatStore, 'markRead' | 'readCursors'> {
  const currentCursor = async (userId: string, roomId: string): Promise<number> => {
    try {
      const row = await prisma.readCursor.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { lastReadSeq: true } });
      return row?.lastReadSeq ?? 0;
    } catch (error) {
      throw toStoreError(error, 'read cursor');
    }
  };
  return {
    /**
     * One statement, so one round trip and one snapshot: the room's last_seq, the
     * membership, and the forward-only upsert (ON CONFLICT … WHERE the stored cursor is
     * lower: a concurrent or repeated write can never lower it). The outer SELECT sees the
     * snapshot before the upsert, so `previous` is the cursor as it was.
     */
    async markRead(userId, roomId, seq) {
      let row: MarkReadRow | undefined;
      try {
        [row] = await prisma.$queryRaw<MarkReadRow[]>`
          WITH room AS (
            SELECT r.last_seq FROM rooms r WHERE r.id = ${roomId}::text
          ), member AS (
            SELECT 1 FROM memberships m WHERE m.room_id = ${roomId}::text AND m.user_id = ${userId}::text
          ), moved AS (
            INSERT INTO read_cursors (room_id, user_id, last_read_seq, updated_at)
            SELECT ${roomId}::text, ${userId}::text, ${seq}::int, now()
            WHERE ${seq}::int > 0 AND EXISTS (SELECT 1 FROM member) AND ${seq}::int <= (SELECT last_seq FROM room)
            ON CONFLICT (room_id, user_id) DO UPDATE
              SET last_read_seq = EXCLUDED.last_read_seq, updated_at = EXCLUDED.updated_at
              WHERE read_cursors.last_read_seq < EXCLUDED.last_read_seq
            RETURNING last_read_seq
          )
          SELECT (SELECT last_seq FROM room) AS last_seq,
                 EXISTS (SELECT 1 FROM member) AS is_member,
                 (SELECT last_read_seq FROM moved) AS moved_to,
                 (SELECT c.last_read_seq FROM read_cursors c WHERE c.room_id = ${roomId}::text AND c.user_id = ${userId}::text) AS previous,
                 (SELECT array_agg(m.user_id) FROM memberships m WHERE m.room_id = ${roomId}::text) AS members`;
      } catch (error) {
        // The membership went away between the check and the insert (a concurrent leave).
        if (constraintOf(error) === 'read_cursors_room_id_user_id_fkey')
          throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${roomId}`);
        throw toStoreError(error, 'mark read');
      }
      if (row === undefined || row.last_seq === null) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
      if (!row.is_member) throw new ChatError('NOT_A_MEMBER', `${userId} is not a member of room ${roomId}`);
      if (seq > row.last_seq)
        throw new ChatError('READ_PAST_END', `seq ${seq} is past the last message (${row.last_seq}) of room ${roomId}`);
      const members = sorted(row.members ?? []);
      if (row.moved_to !== null) return { moved: true, lastReadSeq: row.moved_to, members };
      // Not moved although seq is above the cursor of the statement's snapshot: a concurrent
      // write raised it past seq after that snapshot (the upsert's WHERE saw the newer row).
      // Read it again, so the answer is the cursor as it is, never one lower than stored.
      if (seq > (row.previous ?? 0)) return { moved: false, lastReadSeq: await currentCursor(userId, roomId), members };
      return { moved: false, lastReadSeq: row.previous ?? 0, members };
    },
    async readCursors(userId, roomIds) {
      if (roomIds.length === 0) return new Map();
      try {
        const rows = await prisma.readCursor.findMany({
          where: { userId, roomId: { in: [...roomIds] } },
          select: { roomId: true, lastReadSeq: true },
        });
        return new Map(rows.map((r) => [r.roomId, r.lastReadSeq]));
      } catch (error) {
        throw toStoreError(error, 'read cursors');
      }
    },
  };
}
