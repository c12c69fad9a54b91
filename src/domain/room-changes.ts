import type { RoomEvent, RoomKind, ServerFrame } from '../protocol/frames';
import { assertNever } from './assert-never';
import type { NewOutboxEntry } from './outbox-entry';

/** A room as the store has it after a change. */
export interface RoomState {
  readonly roomId: string;
  readonly name: string;
  /** Member userIds, sorted. */
  readonly members: readonly string[];
  readonly kind: RoomKind;
}

/** A room change made through REST that members must hear about. */
export type RoomChange =
  | { readonly event: Extract<RoomEvent, 'created'>; readonly room: RoomState; readonly by: string }
  | { readonly event: Extract<RoomEvent, 'member.added'>; readonly room: RoomState; readonly by: string; readonly member: string }
  | { readonly event: Extract<RoomEvent, 'renamed'>; readonly room: RoomState; readonly by: string }
  | { readonly event: Extract<RoomEvent, 'member.removed'>; readonly room: RoomState; readonly by: string; readonly member: string };

/**
 * Who hears about a change: every member of the room after it (the creator and the member
 * added included, so their other sockets learn of it too) and, for a removal, the removed
 * member as well: its frame names it as `member`, so its clients drop the room.
 */
function audience(change: RoomChange): readonly string[] {
  switch (change.event) {
    case 'created':
    case 'member.added':
    case 'renamed':
      return change.room.members;
    case 'member.removed':
      return change.room.members.includes(change.member) ? change.room.members : [...change.room.members, change.member];
    default:
      return assertNever(change, 'room change');
  }
}

/**
 * The outbox rows of a room change: one `deliver` record per member to tell (above), each
 * keyed by that member. The frame carries one change id for all of them and a snapshot of
 * the room, so a repeat or a late arrival is harmless.
 */
export function roomChangeEntries(change: RoomChange, newId: () => string): NewOutboxEntry[] {
  const changeId = newId();
  const frame: ServerFrame = {
    type: 'room',
    id: changeId,
    event: change.event,
    room: { roomId: change.room.roomId, name: change.room.name, members: [...change.room.members], kind: change.room.kind },
    by: change.by,
    ...(change.event === 'member.added' || change.event === 'member.removed' ? { member: change.member } : {}),
  };
  return audience(change).map((member) => ({
    id: newId(),
    aggregateId: change.room.roomId,
    recordType: 'deliver',
    key: member,
    payload: { frame },
  }));
}
