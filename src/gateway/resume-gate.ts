import { RoomSequencer } from '../domain/room-sequencer';
import type { Message } from '../protocol/message';
import type { ServerFrame } from '../protocol/frames';

/**
 * Stands in front of one connection and makes its message stream per room ordered,
 * gap-free after a resume, and duplicate-free (domain/room-sequencer does the per-room work).
 *
 * Resume: while history is read from PostgreSQL, live `message` frames are held back;
 * history goes out first, then the held frames, dropping what history already sent.
 * Why no gap: a resume is served after the session is registered with the owner (the
 * `ready` frame), so a message stored after the history query started is also relayed
 * live to this connection, and one stored before it is in the history.
 */
/** A place in a room's sequence: a message to write, or a seq this connection got otherwise (its ack). */
interface Slot {
  readonly seq: number;
  readonly message?: Message;
  /** Relayed as it happened, not read back for a resume (send→deliver latency counts only these). */
  readonly live?: boolean;
}

export class ResumeGate {
  private resuming = 0;
  private held: Message[] = [];
  private readonly rooms = new Map<string, RoomSequencer<Slot>>();
  private timer: NodeJS.Timeout | undefined;

  private readonly repairing = new Set<string>();

  /**
   * `fetchGap` reads the missing messages (seq in [from, to]) from the archive: a later seq
   * exists only once every earlier one is committed (the room's row lock orders them), so a
   * gap that outlasts `gapTimeoutMs` — a delivery stuck behind a busy owner — is filled
   * from PostgreSQL rather than skipped. Without it, or when it fails, the held messages
   * are released in order after a second timeout and the late one is written when it comes.
   */
  constructor(
    /** Writes a frame to the connection; `live` is false for resume history. */
    private readonly write: (frame: ServerFrame, live: boolean) => boolean,
    private readonly options: {
      gapTimeoutMs: number;
      now?: () => number;
      fetchGap?: (roomId: string, from: number, to: number) => Promise<Message[]>;
    } = { gapTimeoutMs: 2_000 },
  ) {}

  /** Sends a frame now, or holds it if it must wait (resume, or an earlier seq still missing). */
  push(frame: ServerFrame): boolean {
    if (frame.type === 'ack') {
      // The sending socket gets its own message as an ack, not as a `message`: its seq is
      // taken, so later messages of the room do not wait for it.
      const written = this.write(frame, true);
      this.offerSlot({ seq: frame.message.seq }, frame.message.roomId);
      return written;
    }
    if (frame.type !== 'message') return this.write(frame, true);
    if (this.resuming > 0) this.held.push(frame.message);
    else this.offer(frame.message, true);
    return true;
  }

  /** Runs a resume: `history` returns, per room, the messages after the client's lastSeq, in seq order. */
  async resume(lastSeen: Readonly<Record<string, number>>, history: () => Promise<Message[][]>): Promise<void> {
    this.resuming++;
    try {
      for (const [roomId, seq] of Object.entries(lastSeen)) this.room(roomId).startAfter(seq, this.now());
      for (const messages of await history()) for (const message of messages) this.offer(message, false);
    } finally {
      this.resuming--;
      if (this.resuming === 0) {
        const held = this.held;
        this.held = [];
        for (const message of held) this.offer(message, true);
      }
    }
  }

  /** Stops the gap timer (connection closed). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private room(roomId: string): RoomSequencer<Slot> {
    let seq = this.rooms.get(roomId);
    if (seq === undefined) {
      seq = new RoomSequencer<Slot>(
        (slot) => {
          if (slot.message !== undefined) this.write({ type: 'message', message: slot.message }, slot.live === true);
        },
        { gapTimeoutMs: this.options.gapTimeoutMs },
      );
      this.rooms.set(roomId, seq);
    }
    return seq;
  }

  private offer(message: Message, live: boolean): void {
    this.offerSlot({ seq: message.seq, message, live }, message.roomId);
  }

  private offerSlot(slot: Slot, roomId: string): void {
    const room = this.room(roomId);
    room.offer(slot, this.now());
    if (room.waiting() && this.timer === undefined) {
      this.timer = setInterval(() => this.check(), Math.max(50, Math.floor(this.options.gapTimeoutMs / 4)));
      this.timer.unref();
    }
  }

  /** Repairs or releases overdue gaps; stops the timer when no room waits. */
  private check(): void {
    const now = this.now();
    let waiting = false;
    for (const [roomId, room] of this.rooms) {
      const gap = room.overdueGap(now);
      if (gap !== undefined && this.options.fetchGap !== undefined && !this.repairing.has(roomId)) {
        this.repairing.add(roomId);
        const giveUp = setTimeout(() => room.release(this.now()), this.options.gapTimeoutMs);
        giveUp.unref();
        this.options
          .fetchGap(roomId, gap.from, gap.to)
          .then((messages) => {
            // Still live traffic, only late: its latency is real and counts.
            for (const message of messages) this.offer(message, true);
          })
          .catch(() => room.release(this.now()))
          .finally(() => {
            clearTimeout(giveUp);
            this.repairing.delete(roomId);
          });
      } else if (gap !== undefined && this.options.fetchGap === undefined) {
        room.release(now);
      }
      waiting = room.waiting() || waiting;
    }
    if (!waiting) this.close();
  }
}
