import { ChatError } from './errors';

/** What the refusal rule needs to know of the message an edit or delete names. */
export interface ChangeTarget {
  readonly roomId: string;
  readonly senderId: string;
  /** Set when the target is itself an edit or delete event. */
  readonly edits?: string | null | undefined;
  readonly deleted?: boolean | null | undefined;
}

/**
 * Whether `senderId` may change `messageId` in `roomId` (api.md v1.1, edit and delete),
 * given the target as stored, or undefined when there is none. The one rule both stores
 * apply, in this order: it must exist in that room (MESSAGE_NOT_FOUND: a message of
 * another room is not found, so ids of rooms one cannot read are not confirmed), be the
 * requester's own (NOT_MESSAGE_SENDER), be an original, not an event (MESSAGE_NOT_EDITABLE:
 * a client names the original, so `edits` always points at one), and not be deleted
 * (MESSAGE_DELETED). Undefined when the change may go ahead.
 */
export function changeRefusal(
  target: ChangeTarget | undefined,
  { roomId, senderId, messageId }: { roomId: string; senderId: string; messageId: string },
): ChatError | undefined {
  if (target === undefined || target.roomId !== roomId)
    return new ChatError('MESSAGE_NOT_FOUND', `no message ${messageId} in room ${roomId}`);
  if (target.senderId !== senderId) return new ChatError('NOT_MESSAGE_SENDER', `message ${messageId} was sent by someone else`);
  if (target.edits !== undefined && target.edits !== null)
    return new ChatError('MESSAGE_NOT_EDITABLE', `message ${messageId} is an edit or delete event; name the original ${target.edits}`);
  if (target.deleted === true) return new ChatError('MESSAGE_DELETED', `message ${messageId} is deleted`);
  return undefined;
}
