import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/frames';
import type { Message } from '../../src/protocol/message';
import { createRoomStreams } from '../../client/src/room-streams';
import { waitFor } from './infra';

/**
 * A client that behaves like a well-written app under failure: it keeps the last seq it
 * saw per room; when its socket closes for any reason it reconnects to the next instance
 * in its list and resumes from there; and it re-sends every send not yet acked, with the
 * same clientMsgId, after each reconnect. Fault tests count what it acked and received.
 *
 * It speaks raw frames on purpose (the client package's connection would hide what these
 * tests measure: a duplicate the server sent on one connection, a resume's re-fetches),
 * but its resume point is the package's (client/src/room-streams.ts): the highest
 * contiguous seq per room.
 */
export class ResilientClient {
  readonly acked = new Map<string, Message>();
  /** Messages received as `message` frames, in arrival order (duplicates kept, to count them). */
  readonly received: Message[] = [];
  /** Repeats of a message id on one connection: what the server sent twice. */
  duplicatesOnOneConnection = 0;
  private connectionSeen = new Set<string>();
  readonly errors: ServerFrame[] = [];
  readonly closes: number[] = [];
  reconnects = 0;
  /** When each clientMsgId was first sent, and first refused with an `error` frame (ms epoch). */
  readonly firstSentAt = new Map<string, number>();
  readonly firstErrorAt = new Map<string, number>();
  private readonly pending = new Map<string, { roomId: string; text: string }>();
  /** Per room: the highest contiguous seq received or acked (what a resume asks after). */
  private readonly seen = createRoomStreams();
  private ws: WebSocket | undefined;
  private ready = false;
  private stopped = false;
  private target: number;

  constructor(
    readonly userId: string,
    private readonly token: string,
    private readonly urls: () => string[],
    start: number,
    rooms: readonly string[],
  ) {
    this.target = start;
    for (const roomId of rooms) this.seen.track(roomId, 0);
  }

  async connect(): Promise<void> {
    while (!this.stopped) {
      const urls = this.urls();
      const url = urls[this.target % urls.length]!;
      try {
        await this.open(url);
        return;
      } catch {
        this.target++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  send(roomId: string, clientMsgId: string, text: string): void {
    this.pending.set(clientMsgId, { roomId, text });
    if (!this.firstSentAt.has(clientMsgId)) this.firstSentAt.set(clientMsgId, Date.now());
    if (this.ready) this.ws?.send(JSON.stringify({ type: 'send', roomId, clientMsgId, text }));
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** The owner confirmed the current connection (`ready`) and it is still open. */
  isReady(): boolean {
    return this.ready && this.ws?.readyState === WebSocket.OPEN;
  }

  /** One line about where the client stands, for a failure message. */
  describe(): string {
    return `${this.userId}: ready=${this.ready} target=${this.urls()[this.target % Math.max(1, this.urls().length)]} pending=${[...this.pending.keys()].slice(0, 3).join(',')}${this.pending.size > 3 ? '…' : ''} closes=${this.closes.join(',')} errors=${this.errors.map((e) => (e.type === 'error' ? e.code : e.type)).join(',')}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN)
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.close();
      });
  }

  private open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${this.token}` } });
      this.ws = ws;
      this.connectionSeen = new Set();
      this.ready = false;
      let opened = false;
      ws.on('error', (error) => {
        if (!opened) reject(error);
      });
      // A session the owner never confirms is given up on, and another instance tried.
      const readyTimer = setTimeout(() => {
        if (!this.ready) ws.terminate();
      }, 20_000);
      ws.on('open', () => (opened = true));
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as ServerFrame;
        switch (frame.type) {
          case 'ready':
            clearTimeout(readyTimer);
            this.ready = true;
            ws.send(JSON.stringify({ type: 'resume', rooms: this.seen.resumePoints() }));
            for (const [clientMsgId, p] of this.pending)
              ws.send(JSON.stringify({ type: 'send', roomId: p.roomId, clientMsgId, text: p.text }));
            resolve();
            break;
          case 'ack':
            this.pending.delete(frame.clientMsgId);
            this.acked.set(frame.clientMsgId, frame.message);
            this.seen.offer(frame.message, Date.now());
            break;
          case 'message':
            if (this.connectionSeen.has(frame.message.id)) this.duplicatesOnOneConnection++;
            this.connectionSeen.add(frame.message.id);
            this.received.push(frame.message);
            this.seen.offer(frame.message, Date.now());
            break;
          case 'error': {
            this.errors.push(frame);
            if (frame.ref !== undefined && !this.firstErrorAt.has(frame.ref)) this.firstErrorAt.set(frame.ref, Date.now());
            // A retriable refusal of a send (Kafka briefly unable to take it): try again.
            const ref = frame.ref;
            if (ref !== undefined && (frame.code === 'UNAVAILABLE' || frame.code === 'TIMEOUT') && this.pending.has(ref)) {
              setTimeout(() => {
                const p = this.pending.get(ref);
                if (p !== undefined && this.ready && this.ws === ws)
                  ws.send(JSON.stringify({ type: 'send', roomId: p.roomId, clientMsgId: ref, text: p.text }));
              }, 500);
            }
            break;
          }
          default:
            break;
        }
      });
      ws.on('close', (code) => {
        this.closes.push(code);
        this.ready = false;
        if (!opened) return reject(new Error(`closed before open: ${code}`));
        if (this.stopped) return;
        this.reconnects++;
        this.target++;
        void this.connect();
      });
    });
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
  /** Received again after a reconnect (the resume re-fetched it; dropped by id). */
  readonly refetched: number;
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
  for (const c of clients) {
    const expected = expectedFor(c);
    const got = new Set(c.received.map((m) => m.id));
    expectedDeliveries += expected.length;
    delivered += expected.filter((m) => got.has(m.id)).length;
    duplicates += c.duplicatesOnOneConnection;
    refetched += c.received.length - got.size - c.duplicatesOnOneConnection;
    reconnects += c.reconnects;
  }
  return { acked, expectedDeliveries, delivered, lost: expectedDeliveries - delivered, duplicates, refetched, reconnects };
}
