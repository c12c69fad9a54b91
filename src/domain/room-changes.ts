import type { RoomEvent, ServerFrame } from '../protocol/frames';
import type { NewOutboxEntry } from './outbox-entry';

/** A room as the store has it after a change. */
export interface RoomState {
  readonly roomId: string;
  readonly name: string;
  /** Member userIds, sorted. */
  readonly members: readonly string[];
}

/** A room change made through REST that members must hear about. */
export type RoomChange =
  | { readonly event: Extract<RoomEvent, 'created'>; readonly room: RoomState; readonly by: string }
  | { readonly event: Extract<RoomEvent, 'member.added'>; readonly room: RoomState; readonly by: string; readonly member: string };

/**
 * The outbox rows of a room change: one `deliver` record per member of the room after the
 * change (the creator and the member added included, so their other sockets learn of it
 * too), each keyed by that member. The frame carries one change id for all of them and
 * a snapshot of the room, so a repeat or a late arrival is harmless.
 */
export function roomChangeEntries(change: RoomChange, newId: () => string): NewOutboxEntry[] {
  const changeId = newId();
  const frame: ServerFrame = {
    type: 'room',
    id: changeId,
    event: change.event,
    room: { roomId: change.room.roomId, name: change.room.name, members: [...change.room.members] },
    by: change.by,
    ...(change.event === 'member.added' ? { member: change.member } : {}),
  };
  return change.room.members.map((member) => ({
    id: newId(),
    aggregateId: change.room.roomId,
    recordType: 'deliver',
    key: member,
    payload: { frame },
  }));
}
