import { createChatConnection, type ChatConnection, type ConnectionState, type Message } from '../../client/src/index.js';
import { ChatError, createApi, type Room } from './api';
import { createSessionStore, type Session } from './session';
import { byId, clear, el, newClientMsgId } from './dom';
import { currentMessages, messageItem, type MessageActions } from './message-edits';
import { presenceState, type PresenceState } from './presence-view';
import { createReadState } from './read-state';
import { createRoomControls } from './room-controls';
import { createTokenRefresher } from './token-refresher';
import { createUserSearch } from './user-search';

/**
 * The web chat client (served at `/`): register and log in over REST, rooms over REST, and
 * everything live over the client package's connection (client/): messages, typing,
 * presence, announcements, room changes. The connection reconnects and resumes every room
 * from its highest contiguous seq, delivers each message once in seq order, and re-sends
 * unacknowledged messages with their clientMsgId (the server deduplicates); this page keeps
 * only what it shows.
 */

interface RoomState {
  roomId: string;
  name: string;
  members: readonly string[];
  /** A group room, or a direct room (listed apart, see room-controls.ts). */
  readonly kind: 'group' | 'dm';
  /** By seq: live messages (once each, from the connection) and pages of older history. */
  readonly messages: Map<number, Message>;
  /** Highest seq held. */
  maxSeq: number;
  /** Whether older history may exist below the lowest seq held. */
  olderAvailable: boolean;
  historyLoaded: boolean;
  /** userId → when their typing indicator expires. */
  readonly typing: Map<string, number>;
}

interface Pending {
  readonly roomId: string;
  readonly clientMsgId: string;
  readonly text: string;
  failed?: string;
}

const PAGE = 50;
const TYPING_SEND_EVERY_MS = 2_000;
const TYPING_SHOW_MS = 3_500;
const ROOMS_REFRESH_MS = 5_000;

const sessions = createSessionStore({ key: 'keyed-chat.session' });
let session: Session | undefined = sessions.load();
const api = createApi({ token: () => session?.token });
/** Keeps the token fresh with the refresh token: an open page never asks for the password again. */
const refresher = createTokenRefresher({
  refresh: (refreshToken) => api.refresh(refreshToken),
  current: () => session,
  save: (next) => {
    session = sessions.update(next);
  },
  verify: () => verifyToken(),
});

const rooms = new Map<string, RoomState>();
const pending = new Map<string, Pending>();
/** What presence frames said (and activity showed) about other users. */
const online = new Map<string, boolean>();
let current: string | undefined;
let lastTypingSent = 0;
let roomsTimer: number | undefined;
let typingTimer: number | undefined;

/** The live connection of the session (one per login; closed at logout). */
let connection: ChatConnection | undefined;
/** Read cursors and receipts (web/src/read-state.ts): unread badges and "seen by". */
const reads = createReadState({
  markRead: (roomId, seq) => {
    if (connection?.markRead(roomId, seq) === true) return;
    api.markRead(roomId, seq).catch((error: unknown) => showBanner(describe(error), 5_000));
  },
});

// Direct messages, rename and leave (web/src/room-controls.ts). Starting a DM offers people
// as you type (the same search box as adding a member): picking one fills the field and
// opens the DM; typing a whole userId and pressing Enter still works.
const controls = createRoomControls({
  api,
  me: () => session?.user.userId,
  rooms: () => rooms.values(),
  unread: (room) => reads.unread(room.roomId, rooms.get(room.roomId)?.maxSeq ?? 0),
  current: () => current,
  select: (roomId) => selectRoom(roomId),
  opened: (room) => {
    if (!rooms.has(room.roomId)) rooms.set(room.roomId, newRoomState({ ...room, lastSeq: 0 }));
    connection?.trackRoom(room.roomId, 0);
    selectRoom(room.roomId);
  },
  left: (roomId) => dropRoom(roomId),
  showError: (error) => showBanner(describe(error), 6_000),
  userPicker: (input) => {
    const dmSearch = createUserSearch({
      id: 'new-dm-search',
      placeholder: 'Message someone: search people',
      search: (q) => api.searchUsers(q, 8),
      exclude: () => (session === undefined ? [] : [session.user.userId]),
      onPick: (userId) => {
        input.value = userId;
        input.form?.requestSubmit();
      },
    });
    input.after(dmSearch.element);
  },
});

/** A room we left or were removed from: gone from the page and from the connection. */
function dropRoom(roomId: string): void {
  if (!rooms.delete(roomId)) return;
  connection?.untrackRoom(roomId);
  if (current === roomId) {
    current = undefined;
    byId<HTMLInputElement>('text').disabled = true;
    byId<HTMLButtonElement>('send').disabled = true;
    renderMessages();
  }
  renderRooms();
  renderHeader();
}

function connect(): ChatConnection {
  const c = createChatConnection({
    url: location.origin,
    token: () => session?.token,
    // 4001 (the socket's token expired or was revoked): a fresh token, then it reconnects
    // at once and resumes every room, so nothing is lost.
    refreshToken: () => refresher.ensureFresh(),
    // A socket refused before it opened may mean the server no longer takes the token
    // (browsers do not show the upgrade's 401): ask over REST.
    verifyToken,
    // Where each room starts: what the room list said was its last seq (the page loads
    // older history itself); rooms learned later start at 0.
    rooms: Object.fromEntries([...rooms.values()].map((r) => [r.roomId, r.maxSeq])),
  });
  c.on('message', addMessage);
  c.on('state', ({ state, detail }) => showConnection(state, detail));
  c.on('presence', ({ userId, online: isOnline }) => {
    online.set(userId, isOnline);
    renderMembers();
    renderRooms();
  });
  c.on('typing', ({ roomId, userId }) => {
    const room = rooms.get(roomId);
    if (room === undefined || userId === session?.user.userId) return;
    room.typing.set(userId, Date.now() + TYPING_SHOW_MS);
    online.set(userId, true);
    renderTyping();
  });
  c.on('announcement', ({ text }) => showBanner(`Announcement: ${text}`));
  c.on('read', ({ roomId, seq }) => {
    reads.onRead(roomId, seq);
    renderRooms();
  });
  c.on('receipt', ({ roomId, userId, seq }) => {
    reads.onReceipt(roomId, userId, seq);
    // Only the "seen by" line: redrawing the whole list would close an open message editor.
    if (roomId === current) renderSeenBy();
  });
  c.on('room', (change) => {
    // We left or were removed (on any tab or device): the room is gone for us.
    if (change.event === 'member.removed' && change.member === session?.user.userId) return dropRoom(change.room.roomId);
    // A room was created with us in it, renamed, or gained or lost a member: the change is a snapshot.
    const known = rooms.get(change.room.roomId);
    if (known === undefined) rooms.set(change.room.roomId, newRoomState({ ...change.room, kind: change.room.kind ?? 'group', lastSeq: 0 }));
    else {
      known.name = change.room.name;
      known.members = change.room.members;
    }
    renderRooms();
    if (current === change.room.roomId) renderHeader();
  });
  c.on('problem', (problem) => {
    switch (problem.kind) {
      case 'auth-lost':
        endSession(
          problem.error.message.includes('refused')
            ? 'the server no longer accepts your token (was it restarted?)'
            : 'your session ended; log in again',
        );
        return;
      case 'frame-too-large':
      case 'policy':
      case 'refused':
      case 'room-refused':
        showBanner(describe(problem.error), 5_000);
        return;
      default:
        assertNever(problem);
    }
  });
  return c;
}

async function verifyToken(): Promise<boolean> {
  try {
    await api.me();
    return true;
  } catch (error) {
    return !(error instanceof ChatError && error.status === 401);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected: ${JSON.stringify(value)}`);
}

function addMessage(message: Message): void {
  let room = rooms.get(message.roomId);
  if (room === undefined) {
    // Someone added us to a room and wrote in it: learn its name and members.
    room = newRoomState({ roomId: message.roomId, name: message.roomId, members: [], lastSeq: 0, kind: 'group' });
    room.olderAvailable = message.seq > 1;
    rooms.set(room.roomId, room);
    void refreshRooms();
  }
  // Our own message, acked: it is no longer pending (its send promise settles just after).
  if (message.senderId === session?.user.userId) pending.delete(message.clientMsgId);
  if (room.messages.has(message.seq)) return;
  room.messages.set(message.seq, message);
  room.maxSeq = Math.max(room.maxSeq, message.seq);
  room.typing.delete(message.senderId);
  if (message.senderId !== session?.user.userId) online.set(message.senderId, true);
  if (room.roomId === current) {
    markViewed(room);
    renderMessages();
    renderTyping();
  } else renderRooms();
}

// ---- rooms ----------------------------------------------------------------

function newRoomState(r: Pick<Room, 'roomId' | 'name' | 'members' | 'lastSeq' | 'kind'>): RoomState {
  return {
    roomId: r.roomId,
    name: r.name,
    members: r.members,
    kind: r.kind,
    messages: new Map(),
    maxSeq: r.lastSeq,
    olderAvailable: r.lastSeq > 0,
    historyLoaded: false,
    typing: new Map(),
  };
}

async function refreshRooms(): Promise<void> {
  if (session === undefined) return;
  let list: readonly Room[];
  try {
    list = await api.rooms();
  } catch (error) {
    if (error instanceof ChatError && error.status === 401 && !(await refresher.ensureFresh()))
      endSession('your session ended; log in again');
    return;
  }
  for (const r of list) {
    reads.fromList(r);
    const known = rooms.get(r.roomId);
    if (known === undefined) {
      rooms.set(r.roomId, newRoomState(r));
      continue;
    }
    known.name = r.name;
    known.members = r.members;
    // Live frames are newer than the list; never move maxSeq back.
    known.maxSeq = Math.max(known.maxSeq, known.messages.size === 0 ? r.lastSeq : known.maxSeq);
  }
  // Rooms the connection does not follow yet (added by REST, or before it started) start
  // where the list says they are; following never moves a room it already has.
  for (const r of list) connection?.trackRoom(r.roomId, r.lastSeq);
  renderRooms();
  if (current === undefined && list[0] !== undefined) selectRoom(list[0].roomId);
  else renderHeader();
}

async function loadOlder(room: RoomState): Promise<void> {
  const lowest = room.messages.size === 0 ? room.maxSeq + 1 : Math.min(...room.messages.keys());
  if (lowest <= 1) {
    room.olderAvailable = false;
    return;
  }
  const page = await api.history(room.roomId, { beforeSeq: lowest, limit: PAGE });
  for (const m of page) {
    room.messages.set(m.seq, m);
    room.maxSeq = Math.max(room.maxSeq, m.seq);
  }
  room.olderAvailable = page.length === PAGE && (page[0]?.seq ?? 1) > 1;
  room.historyLoaded = true;
}

function selectRoom(roomId: string): void {
  const room = rooms.get(roomId);
  if (room === undefined) return;
  current = roomId;
  markViewed(room);
  renderRooms();
  renderHeader();
  renderMessages();
  renderTyping();
  byId<HTMLInputElement>('text').disabled = false;
  byId<HTMLButtonElement>('send').disabled = false;
  if (!room.historyLoaded) {
    loadOlder(room).then(
      () => {
        if (current === roomId) renderMessages(true);
      },
      (error: unknown) => showBanner(describe(error), 5_000),
    );
  }
}

/** The room on screen is read up to its newest message (when the page is visible). */
function markViewed(room: RoomState): void {
  if (document.visibilityState === 'visible') reads.viewed(room.roomId, room.maxSeq);
}

// ---- rendering ------------------------------------------------------------

function presenceOf(userId: string): PresenceState {
  return presenceState(userId, { self: session?.user.userId, server: connection?.presence(), active: online });
}

function renderRooms(): void {
  const list = byId('rooms');
  clear(list);
  for (const room of rooms.values()) {
    if (room.kind === 'dm') continue;
    const item = el('li', { className: room.roomId === current ? 'room-item active' : 'room-item', dataset: { roomId: room.roomId } });
    const button = el('button', { type: 'button', text: room.name });
    button.addEventListener('click', () => selectRoom(room.roomId));
    item.append(button);
    const unread = reads.unread(room.roomId, room.maxSeq);
    if (unread > 0) item.append(el('span', { className: 'badge', text: String(unread) }));
    list.append(item);
  }
  if (![...rooms.values()].some((r) => r.kind === 'group'))
    list.append(el('li', { className: 'empty', text: 'No rooms yet: create one below.' }));
  controls.renderDms();
}

function renderHeader(): void {
  const room = current === undefined ? undefined : rooms.get(current);
  byId('room-title').textContent = room === undefined ? 'Pick or create a room' : controls.titleOf(room);
  controls.renderActions(room);
  renderMembers();
}

function renderMembers(): void {
  const list = byId('members');
  clear(list);
  const room = current === undefined ? undefined : rooms.get(current);
  if (room === undefined) return;
  for (const member of room.members) {
    const state = presenceOf(member);
    list.append(el('li', { className: `member ${state}`, title: state, text: member, dataset: { userId: member, presence: state } }));
  }
}

function renderMessages(scrollToEnd = false): void {
  const list = byId('messages');
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  clear(list);
  const room = current === undefined ? undefined : rooms.get(current);
  byId('older').hidden = room === undefined || !room.olderAvailable;
  if (room === undefined) return;
  const me = session?.user.userId;
  for (const m of currentMessages(room.messages.values())) list.append(messageItem(m, me, messageActions));
  for (const p of pending.values()) {
    if (p.roomId !== room.roomId) continue;
    const item = el('li', {
      className: p.failed === undefined ? 'msg mine pending' : 'msg mine failed',
      dataset: { clientMsgId: p.clientMsgId },
    });
    item.append(
      el('span', { className: 'meta', text: p.failed ?? `${me ?? ''} · sending…` }),
      el('span', { className: 'text', text: p.text }),
    );
    list.append(item);
  }
  const seenBy = seenByItem(room);
  if (seenBy !== undefined) list.append(seenBy);
  if (room.messages.size === 0 && pending.size === 0) list.append(el('li', { className: 'empty', text: 'No messages yet. Say hello!' }));
  if (scrollToEnd || nearBottom) list.scrollTop = list.scrollHeight;
}

/** "Seen by …" under the last message, from the other members' receipts; none when nobody has. */
function seenByItem(room: RoomState): HTMLElement | undefined {
  const last = Math.max(0, ...room.messages.keys());
  const seen = reads.seenBy(room.roomId, last, session?.user.userId);
  return seen.length === 0
    ? undefined
    : el('li', { className: 'seen-by', text: `Seen by ${seen.join(', ')}`, dataset: { seq: String(last) } });
}

/** Replaces the "seen by" line alone (after a receipt), leaving the messages as they are. */
function renderSeenBy(): void {
  const room = current === undefined ? undefined : rooms.get(current);
  if (room === undefined) return;
  const list = byId('messages');
  const next = seenByItem(room);
  const old = list.querySelector('.seen-by');
  if (old !== null && next !== undefined) old.replaceWith(next);
  else if (old !== null) old.remove();
  else if (next !== undefined) {
    const empty = list.querySelector('.empty');
    if (empty !== null) empty.before(next);
    else list.append(next);
  }
}

/** Edit and delete of one's own messages: the connection sends them; the events redraw the list. */
const messageActions: MessageActions = {
  edit: async (m, text) => connection?.edit(m.roomId, m.id, text),
  delete: async (m) => connection?.delete(m.roomId, m.id),
  failed: (error) => showBanner(describe(error), 5_000),
};

function renderTyping(): void {
  const room = current === undefined ? undefined : rooms.get(current);
  const now = Date.now();
  const who = room === undefined ? [] : [...room.typing.entries()].filter(([, until]) => until > now).map(([userId]) => userId);
  byId('typing').textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
}

function showConnection(state: ConnectionState, detail: string): void {
  const badge = byId('conn');
  badge.dataset['state'] = state;
  badge.textContent = state === 'open' ? 'live' : state;
  badge.title = detail;
}

let bannerTimer: number | undefined;
function showBanner(text: string, forMs = 8_000): void {
  const banner = byId('banner');
  banner.textContent = text;
  banner.hidden = false;
  if (bannerTimer !== undefined) window.clearTimeout(bannerTimer);
  bannerTimer = window.setTimeout(() => (banner.hidden = true), forMs);
}

function describe(error: unknown): string {
  if (error instanceof ChatError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

// ---- session --------------------------------------------------------------

function enterChat(s: Session): void {
  session = s;
  byId('auth').hidden = true;
  byId('chat').hidden = false;
  byId('logout').hidden = false;
  byId('whoami').textContent = s.user.displayName === s.user.userId ? s.user.userId : `${s.user.displayName} (${s.user.userId})`;
  refresher.start(s);
  // Rooms first, so the first resume after `ready` knows every room's last seq.
  void refreshRooms().then(() => {
    if (session !== s) return;
    connection = connect();
    connection.connect();
  });
  roomsTimer = window.setInterval(() => void refreshRooms(), ROOMS_REFRESH_MS);
  typingTimer = window.setInterval(renderTyping, 1_000);
}

function endSession(reason?: string): void {
  const c = connection;
  connection = undefined;
  // Unacked sends reject with CLOSED; they are the old session's and are dropped below.
  c?.close();
  refresher.stop();
  sessions.clear();
  session = undefined;
  rooms.clear();
  reads.clear();
  pending.clear();
  online.clear();
  current = undefined;
  window.clearInterval(roomsTimer);
  window.clearInterval(typingTimer);
  byId('chat').hidden = true;
  byId('auth').hidden = false;
  byId('logout').hidden = true;
  byId('whoami').textContent = '';
  byId('auth-error').textContent = reason ?? '';
}

// ---- forms ----------------------------------------------------------------

byId<HTMLFormElement>('auth-form').addEventListener('submit', (event: SubmitEvent) => {
  event.preventDefault();
  const submitter = event.submitter as HTMLButtonElement | null;
  const register = submitter?.value === 'register';
  const userId = byId<HTMLInputElement>('auth-user').value.trim();
  const password = byId<HTMLInputElement>('auth-password').value;
  const displayName = byId<HTMLInputElement>('auth-display').value.trim();
  const error = byId('auth-error');
  error.textContent = '';
  void (async () => {
    try {
      if (register) await api.register({ userId, password, ...(displayName ? { displayName } : {}) });
      const login = await api.login(userId, password);
      enterChat(sessions.save(login));
    } catch (e) {
      error.textContent = describe(e);
    }
  })();
});

byId('logout').addEventListener('click', () => {
  void api
    .logout(session?.refreshToken)
    .catch(() => undefined)
    .finally(() => endSession());
});

byId<HTMLFormElement>('new-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = byId<HTMLInputElement>('new-room-name');
  const members = byId<HTMLInputElement>('new-room-members');
  const ids = members.value.split(/[\s,]+/).filter((x) => x.length > 0);
  api.createRoom({ name: name.value.trim(), members: ids }).then(
    (room) => {
      name.value = '';
      members.value = '';
      if (!rooms.has(room.roomId)) rooms.set(room.roomId, { ...newRoomState({ ...room, lastSeq: 0, kind: 'group' }), historyLoaded: true });
      connection?.trackRoom(room.roomId, 0);
      selectRoom(room.roomId);
    },
    (error: unknown) => showBanner(describe(error), 6_000),
  );
});

// Adding a member: the user-search box (web/src/user-search.ts) offers people as you type.
const memberSearch = createUserSearch({
  id: 'add-member',
  placeholder: 'Add member: search people',
  search: (q) => api.searchUsers(q, 8),
  exclude: () => (current === undefined ? [] : (rooms.get(current)?.members ?? [])),
  onPick: async (userId) => {
    const roomId = current;
    if (roomId === undefined) return;
    await api.addMember(roomId, userId).then(
      () => refreshRooms(),
      (error: unknown) => showBanner(describe(error), 6_000),
    );
  },
});
byId('add-member').append(memberSearch.element);

byId<HTMLFormElement>('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('text');
  const text = input.value.trim();
  if (current === undefined || text.length === 0) return;
  if (connection === undefined) return;
  const p: Pending = { roomId: current, clientMsgId: newClientMsgId(), text };
  pending.set(p.clientMsgId, p);
  // Not open: it goes out after the next `ready`, with the same clientMsgId; retried until
  // acked (the message itself arrives through the connection's `message` event).
  connection.send(p.roomId, text, { clientMsgId: p.clientMsgId }).then(
    () => {
      pending.delete(p.clientMsgId);
      if (p.roomId === current) renderMessages();
    },
    (error: unknown) => {
      if (!pending.has(p.clientMsgId)) return;
      p.failed = describe(error);
      if (p.roomId === current) renderMessages();
      showBanner(p.failed, 5_000);
    },
  );
  input.value = '';
  renderMessages(true);
});

byId<HTMLInputElement>('text').addEventListener('input', () => {
  const now = Date.now();
  if (current === undefined || now - lastTypingSent < TYPING_SEND_EVERY_MS) return;
  if (connection?.typing(current) === true) lastTypingSent = now;
});

byId('older').addEventListener('click', () => {
  const room = current === undefined ? undefined : rooms.get(current);
  if (room === undefined) return;
  const list = byId('messages');
  const fromBottom = list.scrollHeight - list.scrollTop;
  loadOlder(room).then(
    () => {
      renderMessages();
      list.scrollTop = list.scrollHeight - fromBottom;
    },
    (error: unknown) => showBanner(describe(error), 5_000),
  );
});

document.addEventListener('visibilitychange', () => {
  const room = current === undefined ? undefined : rooms.get(current);
  if (room !== undefined) markViewed(room);
});

// ---- start ----------------------------------------------------------------

if (session !== undefined) {
  // A token from before a server restart may be gone, or expired while the page was
  // closed: check it, refresh it if it is refused, before showing the chat.
  void verifyToken()
    .then(async (ok) => ok || (await refresher.refreshNow()))
    .then((ok) => {
      if (ok && session !== undefined) enterChat(session);
      else endSession();
    });
}
