import { createChatConnection, type ChatConnection } from '../../client/src/chat-connection';
import type { ChatError } from '../../client/src/chat-error';
import type { Message, ServerFrame } from '../../client/src/protocol';
import type { WebSocketFactory } from '../../client/src/web-socket';
import { wsFactory } from './client-harness';
import { waitFor } from './infra';

/**
 * Frame pacing of the load clients: the fault clusters allow 200 frames/s per socket,
 * burst 1000 (WS_MSG_RATE_PER_SEC, WS_MSG_BURST in every fault test's env), so a client
 * re-sending a few seconds of unacked load after a reconnect stays under the limit. The
 * package's own defaults (15/s) suit the server's default limits, not this load.
 */
const FRAMES_PER_SECOND = 200;
const FRAME_BURST = 1_000;
/**
 * Gap re-requests off (the package would ask after 2 s): a re-request on the same socket
 * brings messages this socket already had, which would count as duplicates the server
 * sent. The fault tests measure what the server delivers; only a reconnect's resume
 * re-fetches, as before this client was built on the package. (2^30 ms: far past any
 * test, and under setInterval's 2^31 limit even doubled.)
 */
const NO_GAP_REQUESTS_MS = 2 ** 30;

/**
 * A client that behaves like a well-written app under failure: the client package's
 * connection (client/src/chat-connection.ts), so it resumes every room from its highest
 * contiguous seq after each reconnect, and re-sends every send not yet acked with the same
 * clientMsgId. On top of the package it only moves to the next live instance on every
 * reconnect (the connection's `url` function) and counts, for the fault tests, what it
 * acked and received.
 *
 * What it receives is counted from the connection's `frame` event (every server frame,
 * before the package dedupes), not from `message`: the fault tests measure the server, so
 * a message the server sent twice on one socket (`duplicatesOnOneConnection`) and a
 * resume's re-fetches (`received` keeps them) must stay visible. What the package asks
 * for again on the same socket is not the server's doing: the package resumes again after
 * a retriable refusal of a resume, and what such a resume names (a room's messages after
 * the seq it gives) may come twice on one socket by request. The client watches the
 * frames the package writes (a wrapped socket) and counts a repeat only when no resume
 * since the first copy asked for it.
 */
export class ResilientClient {
  /** Acked sends by clientMsgId: the stored message the ack carried. */
  readonly acked = new Map<string, Message>();
  /** Messages received as `message` frames, in arrival order (duplicates kept, to count them). */
  readonly received: Message[] = [];
  /** Repeats of a message id on one socket: what the server sent twice. */
  duplicatesOnOneConnection = 0;
  /** Resumes the package sent on a socket after its first (each may re-fetch by request). */
  resumesRepeated = 0;
  /** Message ids this socket brought that no later resume asked for again, with room and seq. */
  private connectionSeen = new Map<string, { roomId: string; seq: number }>();
  private resumesOnSocket = 0;
  private current: ReturnType<WebSocketFactory> | undefined;
  readonly errors: ServerFrame[] = [];
  /** Close codes of the sockets that closed under the client (not its own `stop()`), failed opens included. */
  readonly closes: number[] = [];
  /** Sockets that were ready and then lost: each one a reconnect. */
  reconnects = 0;
  /** When each clientMsgId was first sent, and first refused with an `error` frame (ms epoch). */
  readonly firstSentAt = new Map<string, number>();
  readonly firstErrorAt = new Map<string, number>();
  /** Sends not acked yet; one refused for good stays here, so "every send acked" fails on it. */
  private readonly unacked = new Set<string>();
  /** Sends the connection gave up on (refused for good), with the code: for `describe()`. */
  private readonly refused = new Map<string, string>();
  private readonly connection: ChatConnection;
  private target: number;
  private readyOnce: Promise<void>;

  constructor(
    readonly userId: string,
    token: string,
    private readonly urls: () => string[],
    start: number,
    rooms: readonly string[],
  ) {
    this.target = start;
    this.connection = createChatConnection({
      url: () => this.url(),
      token: () => token,
      webSocket: this.watchedSockets(wsFactory),
      rooms: Object.fromEntries(rooms.map((roomId) => [roomId, 0])),
      // A client whose instance died goes straight to the next one (the url function),
      // so retries need not wait long.
      backoff: { minDelayMs: 200, maxDelayMs: 2_000 },
      framesPerSecond: FRAMES_PER_SECOND,
      frameBurst: FRAME_BURST,
      gapTimeoutMs: NO_GAP_REQUESTS_MS,
      sendRetryDelayMs: 500,
    });
    let wasOpen = false;
    this.connection.on('state', ({ state, closeCode }) => {
      if (state === 'reconnecting') {
        if (closeCode !== undefined) this.closes.push(closeCode);
        if (wasOpen) this.reconnects++;
        // Whatever went wrong with this instance, the next attempt goes to the next one.
        this.target++;
      }
      wasOpen = state === 'open';
    });
    this.connection.on('frame', (frame) => this.count(frame));
    this.readyOnce = new Promise((resolve) =>
      this.connection.on('state', ({ state }) => {
        if (state === 'open') resolve();
      }),
    );
  }

  /** Connects; resolves at the first `ready`. */
  async connect(): Promise<void> {
    this.connection.connect();
    await this.readyOnce;
  }

  send(roomId: string, clientMsgId: string, text: string): void {
    this.unacked.add(clientMsgId);
    if (!this.firstSentAt.has(clientMsgId)) this.firstSentAt.set(clientMsgId, Date.now());
    this.connection.send(roomId, text, { clientMsgId }).then(
      (message) => {
        this.unacked.delete(clientMsgId);
        this.acked.set(clientMsgId, message);
      },
      (error: ChatError) => {
        if (error.code !== 'CLOSED') this.refused.set(clientMsgId, error.code);
      },
    );
  }

  pendingCount(): number {
    return this.unacked.size;
  }

  /** The owner confirmed the current connection (`ready`) and it is still open. */
  isReady(): boolean {
    return this.connection.state() === 'open';
  }

  /** One line about where the client stands, for a failure message. */
  describe(): string {
    const pending = [...this.unacked];
    const refused = [...this.refused].map(([id, code]) => `${id}:${code}`);
    return `${this.userId}: state=${this.connection.state()} target=${this.url()} pending=${pending.slice(0, 3).join(',')}${pending.length > 3 ? '…' : ''}${refused.length > 0 ? ` refused=${refused.slice(0, 3).join(',')}` : ''} closes=${this.closes.join(',')} errors=${this.errors.map((e) => (e.type === 'error' ? e.code : e.type)).join(',')}`;
  }

  /** Closes for good (1000); unacked sends stay counted as pending. */
  stop(): Promise<void> {
    this.connection.close();
    return Promise.resolve();
  }

  /** The instance the next socket goes to: the target-th live one, round the list. */
  private url(): string {
    const urls = this.urls();
    if (urls.length === 0) throw new Error('no instance is running');
    return urls[this.target % urls.length]!;
  }

  /**
   * The package's sockets, each watched: a new socket starts a new count, and a resume the
   * package writes forgets, from this socket's count, the messages it asks for again (its
   * rooms' messages after the seqs it names). The first resume after `ready` asks only for
   * what this socket has not had.
   */
  private watchedSockets(make: WebSocketFactory): WebSocketFactory {
    return (url) => {
      const socket = make(url);
      this.connectionSeen = new Map();
      this.resumesOnSocket = 0;
      const send = socket.send.bind(socket);
      socket.send = (data: string) => {
        const frame = JSON.parse(data) as { type: string; rooms?: Record<string, number> };
        if (frame.type === 'resume' && frame.rooms !== undefined && socket === this.current) this.askedAgain(frame.rooms);
        send(data);
      };
      this.current = socket;
      return socket;
    };
  }

  private askedAgain(rooms: Record<string, number>): void {
    if (this.resumesOnSocket++ > 0) this.resumesRepeated++;
    for (const [id, { roomId, seq }] of this.connectionSeen) {
      const after = rooms[roomId];
      if (after !== undefined && seq > after) this.connectionSeen.delete(id);
    }
  }

  private count(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message': {
        const { id, roomId, seq } = frame.message;
        if (this.connectionSeen.has(id)) this.duplicatesOnOneConnection++;
        this.connectionSeen.set(id, { roomId, seq });
        this.received.push(frame.message);
        break;
      }
      case 'error':
        this.errors.push(frame);
        if (frame.ref !== undefined && !this.firstErrorAt.has(frame.ref)) this.firstErrorAt.set(frame.ref, Date.now());
        break;
      default:
        break;
    }
  }
}

/** What a load's clients acked and received, against what every member should have got. */
export interface DeliveryTally {
  /** Every acked message, by id. */
  readonly acked: Map<string, Message>;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly lost: number;
  /** The same message twice on one connection: a duplicate the server produced. */
  readonly duplicates: number;
  /** Received again after a reconnect, or after a resume asked again on a socket (dropped by id). */
  readonly refetched: number;
  /** Resumes the package sent again on a socket (after a retriable refusal of one). */
  readonly resumesRepeated: number;
  readonly reconnects: number;
}

/** The figures every fault test prints: the tally, with the acked messages counted. */
export type DeliveryCounts = Omit<DeliveryTally, 'acked'> & { readonly acked: number };

export function deliveryCounts({ acked, ...rest }: DeliveryTally): DeliveryCounts {
  return { ...rest, acked: acked.size };
}

/**
 * Waits (bounded, 30 s) until every member of each acked message's room, the sender aside,
 * has received it, then counts. Shared by the fault-test harnesses.
 */
export async function tallyDeliveries(
  label: string,
  rooms: readonly { roomId: string; members: readonly string[] }[],
  clients: readonly ResilientClient[],
): Promise<DeliveryTally> {
  const acked = new Map<string, Message>();
  for (const c of clients) for (const m of c.acked.values()) acked.set(m.id, m);
  const expectedFor = (c: ResilientClient): Message[] =>
    [...acked.values()].filter((m) => rooms.some((r) => r.roomId === m.roomId && r.members.includes(c.userId)) && m.senderId !== c.userId);
  await waitFor(
    `${label}: deliveries`,
    () =>
      clients.every((c) => {
        const got = new Set(c.received.map((m) => m.id));
        return expectedFor(c).every((m) => got.has(m.id));
      }),
    { timeoutMs: 30_000, intervalMs: 200 },
  ).catch(() => undefined);
  let expectedDeliveries = 0;
  let delivered = 0;
  let duplicates = 0;
  let refetched = 0;
  let reconnects = 0;
  let resumesRepeated = 0;
  for (const c of clients) {
    const expected = expectedFor(c);
    const got = new Set(c.received.map((m) => m.id));
    expectedDeliveries += expected.length;
    delivered += expected.filter((m) => got.has(m.id)).length;
    duplicates += c.duplicatesOnOneConnection;
    refetched += c.received.length - got.size - c.duplicatesOnOneConnection;
    reconnects += c.reconnects;
    resumesRepeated += c.resumesRepeated;
  }
  return { acked, expectedDeliveries, delivered, lost: expectedDeliveries - delivered, duplicates, refetched, resumesRepeated, reconnects };
}
