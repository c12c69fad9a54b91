import type { Message as MessageRow, Prisma } from '../../generated/prisma/client';
import type { RoomSummary } from '../../ports/chat-store';
import type { Message } from '../../protocol/message';

/** Row mapping: Prisma's rows to the port's shapes. Member lists are always sorted. */
export const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** Selects what a RoomSummary needs. */
export const roomSummarySelect = {
  id: true,
  name: true,
  lastSeq: true,
  kind: true,
  memberships: { select: { userId: true } },
} as const satisfies Prisma.RoomSelect;

export function toSummary(row: Prisma.RoomGetPayload<{ select: typeof roomSummarySelect }>): RoomSummary {
  return { roomId: row.id, name: row.name, members: sorted(row.memberships.map((m) => m.userId)), lastSeq: row.lastSeq, kind: row.kind };
}

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    roomId: row.roomId,
    seq: row.seq,
    senderId: row.senderId,
    text: row.text,
    ts: row.createdAt.toISOString(),
    clientMsgId: row.clientMsgId,
    ...changeFields(row),
  };
}

/**
 * A message's edit/delete columns as the wire carries them: each field only when set, so a
 * plain message looks as it did before v1.1.
 */
export function changeFields(row: {
  edits: string | null;
  deleted: boolean | null;
  editedAt: Date | string | null;
}): Pick<Message, 'edits' | 'deleted' | 'editedAt'> {
  return {
    ...(row.edits === null ? {} : { edits: row.edits }),
    ...(row.deleted === true ? { deleted: true as const } : {}),
    ...(row.editedAt === null ? {} : { editedAt: new Date(row.editedAt).toISOString() }),
  };
}
