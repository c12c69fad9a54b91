import { assertNever } from './assert-never.js';
import { createBackoff, type BackoffOptions } from './backoff.js';
import { ChatError } from './chat-error.js';
import { CloseCodes, MAX_TEXT_LENGTH, type ClientFrame, type Message, type ServerFrame } from './protocol.js';
import { createRoomStreams } from './room-streams.js';
import { createPresenceMap } from './presence-map.js';
import { createEmitter, type TypedEvents } from './typed-events.js';
import { WS_OPEN, defaultWebSocketFactory, socketUrl, type WebSocketFactory, type WebSocketLike } from './web-socket.js';

/**
 * Where the connection stands:
 * - `connecting`: a socket is opening, or open and waiting for the server's `ready`;
 * - `open`: `ready` came; sends go out, rooms are resumed;
 * - `reconnecting`: the socket is gone; the next attempt waits `delayMs`;
 * - `closed`: stopped by `close()`, or the token was refused and could not be refreshed.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  readonly state: ConnectionState;
  /** Human readable: why. */
  readonly detail: string;
  /** Failed attempts since the last `ready`. */
  readonly attempt: number;
  /** `reconnecting` only: the wait before the next attempt. */
  readonly delayMs?: number;
  /** The close code that led here, when a socket closed. */
  readonly closeCode?: number;
}

/**
 * Problems the application should show, each with a ChatError:
 * - `frame-too-large`: the server closed with 1009 (the largest unacked send written on
 *   that socket is rejected, and sends that large are refused locally from then on);
 * - `policy`: the server closed with 4008 (rate or abuse); the connection backs off longer;
 * - `auth-lost`: the token was refused and could not be refreshed; the connection is closed;
 * - `refused`: the server refused a frame that was not a send (error frame without a pending ref);
 * - `room-refused`: a resume named a room the user is not a member of; the room is no longer tracked.
 */
export type ConnectionProblem =
  | { readonly kind: 'frame-too-large'; readonly error: ChatError }
  | { readonly kind: 'policy'; readonly error: ChatError }
  | { readonly kind: 'auth-lost'; readonly error: ChatError }
  | { readonly kind: 'refused'; readonly error: ChatError }
  | { readonly kind: 'room-refused'; readonly roomId: string; readonly error: ChatError };

export type RoomChange = Extract<ServerFrame, { type: 'room' }>;

/** The events of a connection. */
export interface ConnectionEvents {
  /** A message, once per message, in seq order per room with no gap (own sends included). */
  message: Message;
  /** A user's presence changed: a `presence` frame, or an entry of the snapshot after `ready` that differs from what was known. */
  presence: { readonly userId: string; readonly online: boolean };
  typing: { readonly roomId: string; readonly userId: string };
  /** This user's own read cursor moved, from another of its sockets or REST (not from this connection's `markRead`). */
  read: { readonly roomId: string; readonly seq: number };
  /** Another member has read the room up to `seq` (the server sends none in very large rooms). */
  receipt: { readonly roomId: string; readonly userId: string; readonly seq: number };
  /** A room was created or got a member; repeats of one change (same `id`) are dropped. */
  room: RoomChange;
  announcement: { readonly text: string };
  state: StateChange;
  problem: ConnectionProblem;
  /**
   * Every frame the server sent, parsed, as it arrived and before the connection acts on it
   * (so before the dedupe, ordering and gap handling behind `message`): repeats and
   * re-fetched messages included. For diagnostics and for tests that count what the server
   * itself sent, e.g. the same message twice on one socket; a `ready` frame starts a new
   * socket's frames. Applications want `message`. Not JSON or non-text data is not a frame
   * and is not reported.
   */
  frame: ServerFrame;
}

export interface ChatConnectionOptions {
  /**
   * The server, e.g. `http://127.0.0.1:3000`; the socket goes to `<url>/ws`. A function is
   * called before every socket is opened, the first and each reconnect: it lets an
   * application spread its reconnects over several instances (e.g. move to the next one
   * of a list on each `reconnecting` state, so a client of an instance that died does not
   * keep knocking on it). A function that throws counts as a failed attempt (backoff).
   */
  readonly url: string | (() => string);
  /** The current access token; undefined means none (the connection closes as `auth-lost`). */
  readonly token: () => string | undefined | Promise<string | undefined>;
  /**
   * Gets a new token after the server closed with 4001 (expired or revoked), e.g. a refresh
   * or a new login; resolves true when `token()` now gives a good one. Default: none, so a
   * 4001 closes the connection as `auth-lost`.
   */
  readonly refreshToken?: () => Promise<boolean>;
  /**
   * Asked when a socket closed before it opened (a refused upgrade shows no status in
   * browsers): resolves false when the token is no longer accepted, which is handled as a
   * 4001. Default: assume the token is good and retry.
   */
  readonly verifyToken?: () => Promise<boolean>;
  /** Makes sockets. Default: the global WebSocket (browsers, Node 22+), else the `ws` package when installed (Node 20). */
  readonly webSocket?: WebSocketFactory;
  /** Rooms to follow from the start: roomId → the seq after which to deliver. Default none. */
  readonly rooms?: Readonly<Record<string, number>>;
  /** Follow a room from seq 0 when a `room` event says the user was added to it or it was created with them. Default true. */
  readonly autoTrackRooms?: boolean;
  /** Reconnect backoff (full jitter). Defaults: 500 ms first cap, 10 s most. */
  readonly backoff?: BackoffOptions;
  /** Least wait after a 4008 (policy) close. Default 5 s. */
  readonly policyDelayMs?: number;
  /** A socket without `ready` this long is dropped and another attempt made. Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** A gap in a room this old is asked for again (a `resume` of that room). Default 2 s. */
  readonly gapTimeoutMs?: number;
  /** Retry delay of a send the server refused as retriable (RATE_LIMITED, UNAVAILABLE, TIMEOUT). Default 1 s. */
  readonly sendRetryDelayMs?: number;
  /**
   * Outgoing frame pacing (token bucket). WHY: the server closes a socket over its frame
   * rate with 4008 (default 20/s, burst 40), and a reconnect re-sends every unacked send at
   * once. Defaults 15 frames/s, burst 30.
   */
  readonly framesPerSecond?: number;
  readonly frameBurst?: number;
  /** Largest frame sent; a larger send is rejected with FRAME_TOO_LARGE at once. Default 64 KiB (the server's default). */
  readonly maxFrameBytes?: number;
  /**
   * Keep-alive: a ping this often, and a socket silent for twice as long is dropped (a cut
   * network may never deliver a close). Default 15 s; 0 turns it off.
   */
  readonly pingIntervalMs?: number;
  /** Makes clientMsgIds. Default crypto.randomUUID (random fallback). */
  readonly newClientMsgId?: () => string;
  /** Called when a listener throws. Default console.error. */
  readonly onListenerError?: (error: unknown) => void;
}

export interface SendOptions {
  /** The idempotency key; give your own to make a send safe across a page reload. Default: a new one. */
  readonly clientMsgId?: string;
}

/** The frames that wait for an ack and are re-sent until they get one: send, edit, delete. */
type AckedFrame = Extract<ClientFrame, { type: 'send' | 'edit' | 'delete' }> & { readonly clientMsgId: string };

/** The live WebSocket side of the API, with reconnect, resume, in-order delivery and safe retries. */
export interface ChatConnection extends TypedEvents<ConnectionEvents> {
  /** Starts connecting (no-op when already started). */
  connect(): void;
  /**
   * Stops for good: closes the socket (1000) and rejects every unacked send with CLOSED.
   * `connect()` starts again.
   */
  close(): void;
  /**
   * Posts a message. Resolves with the stored message when the server acks it; rejects
   * with a ChatError when the server refuses it for good, the connection is closed, or
   * auth is lost. Idempotent across failures: an unacked send is kept and re-sent with the
   * same clientMsgId after every reconnect, so the server stores it once and the promise
   * settles once. Sends made while disconnected go out when the connection is ready.
   */
  send(roomId: string, text: string, options?: SendOptions): Promise<Message>;
  /**
   * Changes the text of one of this user's messages (api.md v1.1): resolves with the stored
   * edit event (a new seq, `edits` = messageId), which also comes as a `message` event;
   * rejects with MESSAGE_NOT_FOUND, NOT_MESSAGE_SENDER, MESSAGE_NOT_EDITABLE or
   * MESSAGE_DELETED. Safe across reconnects like `send` (it carries a clientMsgId).
   */
  edit(roomId: string, messageId: string, text: string, options?: SendOptions): Promise<Message>;
  /** Deletes one of this user's messages: resolves with the stored delete event (`deleted: true`); as `edit` otherwise. */
  delete(roomId: string, messageId: string, options?: SendOptions): Promise<Message>;
  /** Tells the room's other members this user is typing; dropped (false) when not open. */
  typing(roomId: string): boolean;
  /**
   * Marks the room read up to `seq`: the server moves this user's read cursor (only
   * forward), tells the user's other sockets (`read`) and the other members (`receipt`).
   * Dropped (false) when not open; a seq past the room's end is refused (a `refused`
   * problem with READ_PAST_END).
   */
  markRead(roomId: string, seq: number): boolean;
  /** Follows a room: delivers its messages after `afterSeq` (default 0: all); resumes it now when open. */
  trackRoom(roomId: string, afterSeq?: number): void;
  /** Stops following a room. */
  untrackRoom(roomId: string): void;
  /** Per followed room, the highest contiguous seq delivered: persist it to resume after a restart. */
  resumePoints(): Record<string, number>;
  /** Sends, edits and deletes not yet acked. */
  pendingSends(): number;
  state(): ConnectionState;
  /** The user the server confirmed (`ready`), once it has. */
  userId(): string | undefined;
  /** Who is online among the members of the user's rooms, as far as known (presence-map.ts); absent: unknown. */
  presence(): ReadonlyMap<string, boolean>;
}

interface PendingSend {
  readonly frame: AckedFrame;
  readonly clientMsgId: string;
  readonly resolve: (message: Message) => void;
  readonly reject: (error: ChatError) => void;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

const RECENT_ROOM_CHANGES = 1_000;
/** Code this client closes a socket with when it gives up on it (ready timeout, silence). */
const CLIENT_DROPPED = 4000;

function defaultClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID !== undefined) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * A connection to `/ws` that an application can trust across network drops, restarts and
 * expired tokens. What it guarantees:
 * - reconnects after any close but 4001 with capped exponential backoff and full jitter
 *   (longer after 4008); 4001 refreshes the token (`refreshToken`) and reconnects at once;
 * - after each `ready`, resumes every followed room from its highest contiguous seq, then
 *   re-sends every unacked send with its original clientMsgId;
 * - the `message` event fires once per message, per room in seq order, with no gap (a gap
 *   that outlasts `gapTimeoutMs` is asked for again);
 * - each `send` promise settles exactly once.
 */
export function createChatConnection({
  url,
  token,
  refreshToken,
  verifyToken,
  webSocket,
  rooms = {},
  autoTrackRooms = true,
  backoff: backoffOptions = {},
  policyDelayMs = 5_000,
  readyTimeoutMs = 20_000,
  gapTimeoutMs = 2_000,
  sendRetryDelayMs = 1_000,
  framesPerSecond = 15,
  frameBurst = 30,
  maxFrameBytes = 64 * 1024,
  pingIntervalMs = 15_000,
  newClientMsgId = defaultClientMsgId,
  onListenerError,
}: ChatConnectionOptions): ChatConnection {
  const events = createEmitter<ConnectionEvents>(onListenerError === undefined ? {} : { onListenerError });
  const streams = createRoomStreams();
  for (const [roomId, afterSeq] of Object.entries(rooms)) streams.track(roomId, afterSeq);
  const backoff = createBackoff(backoffOptions);
  const pending = new Map<string, PendingSend>();
  const seenRoomChanges = new Set<string>();

  let current: WebSocketLike | undefined;
  let state: ConnectionState = 'closed';
  let stopped = true;
  let ready = false;
  let me: string | undefined;
  const presence = createPresenceMap();
  let lastFrameAt = 0;
  /** Sends written on the current socket, with their frame sizes: the suspects of a 1009. */
  let writtenSends = new Map<string, number>();
  /** The largest frame sent; lowered below a frame the server refused with 1009. */
  let frameLimit = maxFrameBytes;
  /** Consecutive 4001s without a `ready` in between: a refreshed token refused again is not retried forever. */
  let authFailures = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let readyTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let gapTimer: ReturnType<typeof setInterval> | undefined;
  let pumpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Outgoing frames in order; a thunk returns undefined when its frame is no longer needed. */
  let outbox: (() => ClientFrame | undefined)[] = [];
  let tokens = frameBurst;
  let refilledAt = Date.now();
  /** Gap re-requests in flight: roomId → when asked. */
  const gapAsked = new Map<string, number>();

  const setState = (next: ConnectionState, detail: string, extra: { delayMs?: number; closeCode?: number } = {}): void => {
    state = next;
    events.emit('state', { state: next, detail, attempt: backoff.attempts(), ...extra });
  };

  const clearTimers = (): void => {
    for (const t of [reconnectTimer, readyTimer, pumpTimer]) if (t !== undefined) clearTimeout(t);
    for (const t of [pingTimer, gapTimer]) if (t !== undefined) clearInterval(t);
    reconnectTimer = readyTimer = pumpTimer = pingTimer = gapTimer = undefined;
  };

  // ---- outgoing frames, paced ----------------------------------------------------------

  const write = (frame: ClientFrame): void => {
    const json = JSON.stringify(frame);
    current?.send(json);
    if ((frame.type === 'send' || frame.type === 'edit' || frame.type === 'delete') && frame.clientMsgId !== undefined)
      writtenSends.set(frame.clientMsgId, utf8Length(json));
  };

  const pump = (): void => {
    pumpTimer = undefined;
    if (current === undefined || current.readyState !== WS_OPEN || !ready) return;
    const now = Date.now();
    tokens = Math.min(frameBurst, tokens + ((now - refilledAt) / 1000) * framesPerSecond);
    refilledAt = now;
    while (outbox.length > 0 && tokens >= 1) {
      const frame = outbox.shift()!();
      if (frame === undefined) continue;
      write(frame);
      tokens--;
    }
    if (outbox.length > 0) pumpTimer = setTimeout(pump, Math.ceil(((1 - tokens) / framesPerSecond) * 1000));
  };

  const enqueue = (make: () => ClientFrame | undefined): void => {
    outbox.push(make);
    if (pumpTimer === undefined) pump();
  };

  const sendFrameOf = (clientMsgId: string) => (): ClientFrame | undefined => pending.get(clientMsgId)?.frame;

  const resumeRooms = (roomIds?: readonly string[]): void => {
    const points = streams.resumePoints();
    const wanted = roomIds === undefined ? points : Object.fromEntries(roomIds.filter((r) => r in points).map((r) => [r, points[r]!]));
    // The server takes at most 500 rooms per resume frame.
    const ids = Object.keys(wanted);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = Object.fromEntries(ids.slice(i, i + 500).map((r) => [r, wanted[r]!]));
      enqueue(() => ({ type: 'resume', rooms: chunk }));
    }
  };

  // ---- incoming frames -----------------------------------------------------------------

  const deliver = (message: Message): void => {
    for (const released of streams.offer(message, Date.now())) events.emit('message', released);
    if (!streams.waiting()) gapAsked.clear();
  };

  const settle = (clientMsgId: string): PendingSend | undefined => {
    const p = pending.get(clientMsgId);
    if (p === undefined) return undefined;
    pending.delete(clientMsgId);
    if (p.retryTimer !== undefined) clearTimeout(p.retryTimer);
    return p;
  };

  const onReady = (userId: string): void => {
    ready = true;
    me = userId;
    presence.ready();
    authFailures = 0;
    backoff.reset();
    if (readyTimer !== undefined) clearTimeout(readyTimer);
    readyTimer = undefined;
    tokens = frameBurst;
    refilledAt = Date.now();
    setState('open', `connected as ${userId}`);
    // Resume first, then the unacked sends in the order they were made.
    resumeRooms();
    for (const clientMsgId of pending.keys()) enqueue(sendFrameOf(clientMsgId));
  };

  const onError = (frame: Extract<ServerFrame, { type: 'error' }>): void => {
    const error = new ChatError({ code: frame.code, message: frame.message });
    const ref = frame.ref;
    const p = ref === undefined ? undefined : pending.get(ref);
    if (p !== undefined) {
      if (!error.retriable) {
        settle(p.clientMsgId)?.reject(error);
        return;
      }
      if (p.retryTimer !== undefined) return;
      p.retryTimer = setTimeout(() => {
        p.retryTimer = undefined;
        if (ready && pending.has(p.clientMsgId)) enqueue(sendFrameOf(p.clientMsgId));
      }, sendRetryDelayMs);
      return;
    }
    if (ref !== undefined && frame.code === 'NOT_A_MEMBER' && streams.isTracked(ref)) {
      streams.untrack(ref);
      events.emit('problem', { kind: 'room-refused', roomId: ref, error });
      return;
    }
    // A failed resume (no ref, retriable): ask again shortly.
    if (ref === undefined && error.retriable) {
      setTimeout(() => {
        if (ready) resumeRooms();
      }, sendRetryDelayMs);
    }
    events.emit('problem', { kind: 'refused', error });
  };

  const onFrame = (frame: ServerFrame): void => {
    switch (frame.type) {
      case 'ready':
        onReady(frame.userId);
        return;
      case 'ack':
        settle(frame.clientMsgId)?.resolve(frame.message);
        deliver(frame.message);
        return;
      case 'message':
        deliver(frame.message);
        return;
      case 'presence':
        presence.applyPresence(frame.userId, frame.online);
        events.emit('presence', { userId: frame.userId, online: frame.online });
        return;
      case 'presence.snapshot':
        for (const change of presence.applySnapshot(frame.users)) events.emit('presence', change);
        return;
      case 'typing':
        events.emit('typing', { roomId: frame.roomId, userId: frame.userId });
        return;
      case 'announcement':
        events.emit('announcement', { text: frame.text });
        return;
      case 'read':
        events.emit('read', { roomId: frame.roomId, seq: frame.seq });
        return;
      case 'receipt':
        events.emit('receipt', { roomId: frame.roomId, userId: frame.userId, seq: frame.seq });
        return;
      case 'room': {
        if (seenRoomChanges.has(frame.id)) return;
        seenRoomChanges.add(frame.id);
        if (seenRoomChanges.size > RECENT_ROOM_CHANGES) seenRoomChanges.delete(seenRoomChanges.values().next().value!);
        const joined = me !== undefined && frame.room.members.includes(me);
        // We left or were removed: the server sends the room no more, and a resume of it
        // would be refused.
        if (frame.event === 'member.removed' && frame.member === me) streams.untrack(frame.room.roomId);
        else if (autoTrackRooms && joined && streams.track(frame.room.roomId, 0) && ready) resumeRooms([frame.room.roomId]);
        events.emit('room', frame);
        return;
      }
      case 'pong':
        return;
      case 'error':
        onError(frame);
        return;
      default:
        assertNever(frame, 'server frame');
    }
  };

  // ---- the socket's life ---------------------------------------------------------------

  const scheduleReconnect = (detail: string, closeCode: number | undefined, minDelayMs = 0): void => {
    const delayMs = Math.max(minDelayMs, backoff.next());
    setState('reconnecting', `${detail}; retrying in ${(delayMs / 1000).toFixed(1)} s`, {
      delayMs,
      ...(closeCode === undefined ? {} : { closeCode }),
    });
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void open();
    }, delayMs);
  };

  const authLost = (detail: string): void => {
    const error = new ChatError({ code: 'AUTH_LOST', message: detail });
    stop(error);
    events.emit('problem', { kind: 'auth-lost', error });
  };

  /** After a 4001 (or a refused upgrade): refresh, reconnect at once if that worked. */
  const reauthenticate = async (detail: string, closeCode: number): Promise<void> => {
    authFailures++;
    let refreshed = false;
    if (refreshToken !== undefined && authFailures <= 3) {
      try {
        refreshed = await refreshToken();
      } catch {
        refreshed = false;
      }
    }
    if (stopped) return;
    if (!refreshed) return authLost(`${detail}; the token could not be refreshed`);
    if (authFailures === 1) {
      setState('reconnecting', `${detail}; token refreshed`, { delayMs: 0, closeCode });
      void open();
    } else scheduleReconnect(`${detail}; token refreshed`, closeCode);
  };

  const socketGone = (socket: WebSocketLike, code: number, reason: string, opened: boolean): void => {
    if (socket !== current) return;
    current = undefined;
    ready = false;
    outbox = [];
    const written = writtenSends;
    writtenSends = new Map();
    clearTimers();
    if (stopped) return;
    const detail = `connection closed (${code}${reason ? `: ${reason}` : ''})`;
    switch (code) {
      case CloseCodes.TOKEN_INVALID:
        void reauthenticate(detail, code);
        return;
      case CloseCodes.POLICY:
        events.emit('problem', {
          kind: 'policy',
          error: new ChatError({
            code: 'POLICY',
            message: `the server closed the connection for policy (rate or abuse)${reason ? `: ${reason}` : ''}`,
          }),
        });
        scheduleReconnect(detail, code, policyDelayMs);
        return;
      case CloseCodes.MESSAGE_TOO_BIG: {
        const error = new ChatError({
          code: 'FRAME_TOO_LARGE',
          message: `the server closed the connection: a frame was too large (1009)${reason ? `: ${reason}` : ''}`,
        });
        // The server's limit is below ours. The largest send written on this socket and not
        // acked is the one it refused: re-sending it would loop, so it is rejected, and the
        // limit drops below its size (later sends that large are refused at once).
        let culprit: [string, number] | undefined;
        for (const [clientMsgId, size] of written)
          if (pending.has(clientMsgId) && (culprit === undefined || size > culprit[1])) culprit = [clientMsgId, size];
        if (culprit !== undefined) {
          frameLimit = Math.min(frameLimit, culprit[1] - 1);
          settle(culprit[0])?.reject(error);
        }
        events.emit('problem', { kind: 'frame-too-large', error });
        scheduleReconnect(detail, code);
        return;
      }
      default:
        break;
    }
    if (opened || verifyToken === undefined) return scheduleReconnect(detail, code);
    verifyToken().then(
      (ok) => {
        if (stopped || current !== undefined || reconnectTimer !== undefined) return;
        if (ok) scheduleReconnect(detail, code);
        else void reauthenticate('the server refused the token', CloseCodes.TOKEN_INVALID);
      },
      () => {
        if (!stopped && current === undefined && reconnectTimer === undefined) scheduleReconnect(detail, code);
      },
    );
  };

  /** Gives up on a socket that will not talk (no ready, or silent): as if it closed. */
  const drop = (socket: WebSocketLike, why: string, opened: boolean): void => {
    try {
      socket.close(CLIENT_DROPPED, why);
    } catch {
      // already closing
    }
    socketGone(socket, CLIENT_DROPPED, why, opened);
  };

  async function open(): Promise<void> {
    if (stopped || current !== undefined) return;
    let bearer: string | undefined;
    try {
      bearer = await token();
    } catch {
      bearer = undefined;
    }
    if (stopped || current !== undefined) return;
    if (bearer === undefined) return authLost('no token');
    const factory = webSocket ?? (await defaultWebSocketFactory());
    if (stopped || current !== undefined) return;
    if (factory === undefined) {
      stop(
        new ChatError({
          code: 'CLOSED',
          message: 'no WebSocket implementation: use Node 22+, install the ws package, or pass `webSocket`',
        }),
      );
      return;
    }
    setState('connecting', backoff.attempts() === 0 ? 'connecting' : `connecting (attempt ${backoff.attempts() + 1})`);
    let socket: WebSocketLike;
    try {
      socket = factory(socketUrl(typeof url === 'function' ? url() : url, bearer));
    } catch (error) {
      scheduleReconnect(`cannot open a socket (${error instanceof Error ? error.message : String(error)})`, undefined);
      return;
    }
    current = socket;
    ready = false;
    outbox = [];
    writtenSends = new Map();
    let opened = false;
    lastFrameAt = Date.now();
    readyTimer = setTimeout(() => drop(socket, 'no ready from the server', opened), readyTimeoutMs);
    socket.addEventListener('open', () => {
      opened = true;
      lastFrameAt = Date.now();
      if (pingIntervalMs > 0 && socket === current) {
        pingTimer = setInterval(() => {
          if (socket !== current) return;
          if (Date.now() - lastFrameAt > 2 * pingIntervalMs) drop(socket, 'the server went silent', true);
          else if (ready) enqueue(() => ({ type: 'ping' }));
        }, pingIntervalMs);
      }
    });
    socket.addEventListener('message', (event) => {
      if (socket !== current) return;
      lastFrameAt = Date.now();
      if (typeof event.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return; // not JSON: not a frame of ours
      }
      events.emit('frame', frame);
      // A `frame` listener may have closed the connection.
      if (socket !== current) return;
      onFrame(frame);
    });
    socket.addEventListener('close', (event) => socketGone(socket, event.code, event.reason, opened));
    // An error is followed by a close in every implementation; the close decides.
    socket.addEventListener('error', () => undefined);
    if (gapTimer === undefined) {
      gapTimer = setInterval(
        () => {
          if (!ready) return;
          const now = Date.now();
          const overdue = streams.overdueGaps(now, gapTimeoutMs).filter((r) => now - (gapAsked.get(r) ?? 0) >= gapTimeoutMs);
          if (overdue.length === 0) return;
          for (const r of overdue) gapAsked.set(r, now);
          resumeRooms(overdue);
        },
        Math.max(50, Math.floor(gapTimeoutMs / 2)),
      );
    }
  }

  function stop(reason: ChatError): void {
    stopped = true;
    ready = false;
    clearTimers();
    outbox = [];
    const socket = current;
    current = undefined;
    try {
      socket?.close(CloseCodes.NORMAL, 'bye');
    } catch {
      // already closing
    }
    for (const p of [...pending.values()]) settle(p.clientMsgId)?.reject(reason);
    setState('closed', reason.message);
  }

  /** A send, edit or delete: kept until acked or refused for good, re-sent after every reconnect. */
  function request(frame: AckedFrame): Promise<Message> {
    const { clientMsgId } = frame;
    if (frame.type !== 'delete' && (frame.text.length === 0 || frame.text.length > MAX_TEXT_LENGTH)) {
      return Promise.reject(new ChatError({ code: 'VALIDATION', message: `text must be 1 to ${MAX_TEXT_LENGTH} characters` }));
    }
    const size = utf8Length(JSON.stringify(frame));
    if (size > frameLimit)
      return Promise.reject(
        new ChatError({ code: 'FRAME_TOO_LARGE', message: `the frame would be ${size} bytes; the limit is ${frameLimit}` }),
      );
    if (stopped) return Promise.reject(new ChatError({ code: 'CLOSED', message: 'the connection is closed; call connect() first' }));
    const existing = pending.get(clientMsgId);
    if (existing !== undefined) {
      return new Promise<Message>((resolve, reject) => {
        // The same clientMsgId again: one server message, so both callers get it.
        const prev = existing;
        pending.set(clientMsgId, {
          ...prev,
          resolve: (m) => (prev.resolve(m), resolve(m)),
          reject: (e) => (prev.reject(e), reject(e)),
        });
      });
    }
    return new Promise<Message>((resolve, reject) => {
      pending.set(clientMsgId, { frame, clientMsgId, resolve, reject, retryTimer: undefined });
      if (ready) enqueue(sendFrameOf(clientMsgId));
    });
  }

  return {
    on: events.on,
    off: events.off,
    connect() {
      if (!stopped) return;
      stopped = false;
      authFailures = 0;
      backoff.reset();
      void open();
    },
    close() {
      if (stopped) return;
      stop(new ChatError({ code: 'CLOSED', message: 'closed by the application' }));
    },
    send(roomId, text, { clientMsgId = newClientMsgId() } = {}) {
      return request({ type: 'send', roomId, clientMsgId, text });
    },
    edit(roomId, messageId, text, { clientMsgId = newClientMsgId() } = {}) {
      return request({ type: 'edit', roomId, messageId, text, clientMsgId });
    },
    delete(roomId, messageId, { clientMsgId = newClientMsgId() } = {}) {
      return request({ type: 'delete', roomId, messageId, clientMsgId });
    },
    typing(roomId) {
      if (!ready) return false;
      enqueue(() => ({ type: 'typing', roomId }));
      return true;
    },
    markRead(roomId, seq) {
      if (!ready) return false;
      enqueue(() => ({ type: 'read', roomId, seq }));
      return true;
    },
    trackRoom(roomId, afterSeq = 0) {
      if (streams.track(roomId, afterSeq) && ready) resumeRooms([roomId]);
    },
    untrackRoom: (roomId) => streams.untrack(roomId),
    resumePoints: () => streams.resumePoints(),
    pendingSends: () => pending.size,
    state: () => state,
    userId: () => me,
    presence: () => presence.entries(),
  };
}
