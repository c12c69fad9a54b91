import type { Api } from './api';
import { byId, clear, el } from './dom';

/** What these controls need to know of a room the page holds. */
export interface RoomView {
  readonly roomId: string;
  readonly name: string;
  readonly members: readonly string[];
  readonly kind: 'group' | 'dm';
}

/**
 * Lets another component help fill a userId field: the user search (web/src/user-search.ts,
 * GET /api/users?q=) attaches here to the "start a direct message" input. Without one the
 * field takes a plain userId.
 */
export type UserPicker = (input: HTMLInputElement) => void;

/**
 * The v1.1 room controls of the chat page: the direct-message list (apart from the group
 * rooms), "start a direct message", and rename and leave for the room on screen. The server
 * answers and the `room` frames that follow (renamed, member.removed) are what change the
 * page's rooms: these controls only ask, and show what failed.
 */
export function createRoomControls({
  api,
  me,
  rooms,
  unread,
  current,
  select,
  opened,
  left,
  showError,
  userPicker,
}: {
  api: Api;
  /** The logged-in userId. */
  me: () => string | undefined;
  rooms: () => Iterable<RoomView>;
  /** Unread messages of a room, as the page counts them (read cursors: read-state.ts). */
  unread: (room: RoomView) => number;
  current: () => string | undefined;
  select: (roomId: string) => void;
  /** A direct room the server answered with (new or existing): the page adds and opens it. */
  opened: (room: { roomId: string; name: string; members: readonly string[]; kind: 'dm' }) => void;
  /** The user left a room: the page drops it at once (the `room` frame will say so again). */
  left: (roomId: string) => void;
  showError: (error: unknown) => void;
  userPicker?: UserPicker;
}) {
  /** How a room is called on screen: a direct room by the other member. */
  const titleOf = (room: RoomView): string => (room.kind === 'dm' ? (room.members.find((m) => m !== me()) ?? room.name) : room.name);

  const renderDms = (): void => {
    const list = byId('dms');
    clear(list);
    let count = 0;
    for (const room of rooms()) {
      if (room.kind !== 'dm') continue;
      count++;
      const item = el('li', {
        className: room.roomId === current() ? 'room-item dm active' : 'room-item dm',
        dataset: { roomId: room.roomId, peer: titleOf(room) },
      });
      const button = el('button', { type: 'button', text: titleOf(room) });
      button.addEventListener('click', () => select(room.roomId));
      item.append(button);
      const unreadCount = unread(room);
      if (unreadCount > 0) item.append(el('span', { className: 'badge', text: String(unreadCount) }));
      list.append(item);
    }
    if (count === 0) list.append(el('li', { className: 'empty', text: 'No direct messages yet.' }));
  };

  /** Rename and leave for a group room; a direct room has neither (nor adding members). */
  const renderActions = (room: RoomView | undefined): void => {
    const group = room !== undefined && room.kind === 'group';
    byId('room-actions').hidden = !group;
    byId('add-member').hidden = !group;
    if (group) byId<HTMLInputElement>('rename-room-name').placeholder = room.name;
  };

  byId<HTMLFormElement>('new-dm').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('new-dm-user');
    api.createDm(input.value.trim()).then((room) => {
      input.value = '';
      opened(room);
    }, showError);
  });
  byId<HTMLFormElement>('rename-room').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('rename-room-name');
    const roomId = current();
    if (roomId === undefined) return;
    api.renameRoom(roomId, input.value.trim()).then(() => (input.value = ''), showError);
  });
  byId('leave-room').addEventListener('click', () => {
    const [roomId, userId] = [current(), me()];
    if (roomId === undefined || userId === undefined) return;
    api.leaveRoom(roomId, userId).then(() => left(roomId), showError);
  });
  userPicker?.(byId<HTMLInputElement>('new-dm-user'));

  return { renderDms, renderActions, titleOf };
}
