/**
 * Puts one room's messages for one connection in seq order and drops duplicates.
 *
 * Why it is needed: messages of a room reach a member through the member's own partition,
 * but the deliver records are produced by the owners of different senders, so seq 6 can
 * arrive before seq 5. The sequencer holds 6 until 5 arrives, or until `gapTimeoutMs`
 * passes (then it releases what it holds, in order, and writes 5 whenever it comes).
 * Duplicates (redeliveries, resume overlap) are recognised by seq and dropped.
 */
export interface SequencedMessage {
  readonly seq: number;
}

export class RoomSequencer<M extends SequencedMessage> {
  private next: number | undefined;
  private readonly pending = new Map<number, M>();
  private readonly sent = new Set<number>();
  /** The seqs in `sent`, in the order they were written, from `writtenHead` on. */
  private written: number[] = [];
  private writtenHead = 0;
  private heldSince: number | undefined;

  constructor(
    private readonly write: (message: M) => void,
    private readonly options: { gapTimeoutMs: number; window?: number } = { gapTimeoutMs: 2_000 },
  ) {}

  /** The client already has every message up to `seq` (resume). */
  startAfter(seq: number, now = 0): void {
    if (this.next === undefined || seq + 1 > this.next) this.next = seq + 1;
    this.flush(now);
  }

  /** Offers a message; writes it now, holds it, or drops it as a duplicate. */
  offer(message: M, now: number): void {
    const { seq } = message;
    if (this.sent.has(seq) || this.pending.has(seq)) return;
    if (this.next === undefined) this.next = seq;
    if (seq < this.next) {
      // Late: released past it on a timeout, or older than the connection. Better late than never.
      this.emit(message);
      return;
    }
    this.pending.set(seq, message);
    this.flush(now);
  }

  /**
   * The missing seqs (inclusive range) once held messages have waited `gapTimeoutMs`, so
   * the caller can fetch them from the archive; undefined while nothing is overdue.
   */
  overdueGap(now: number): { from: number; to: number } | undefined {
    if (this.heldSince === undefined || this.next === undefined || now - this.heldSince < this.options.gapTimeoutMs) return undefined;
    return { from: this.next, to: Math.min(...this.pending.keys()) - 1 };
  }

  /** Gives up on the gap: writes what is held, in order. */
  release(now: number): void {
    if (this.pending.size === 0) return;
    this.next = Math.min(...this.pending.keys());
    this.flush(now);
  }

  /** Releases held messages when the oldest has waited `gapTimeoutMs`. Returns whether any still wait. */
  tick(now: number): boolean {
    if (this.overdueGap(now) !== undefined) this.release(now);
    return this.pending.size > 0;
  }

  waiting(): boolean {
    return this.pending.size > 0;
  }

  /** Writes what is now contiguous; the wait clock restarts whenever the sequence moves. */
  private flush(now: number): void {
    let moved = false;
    while (this.next !== undefined && this.pending.has(this.next)) {
      const message = this.pending.get(this.next)!;
      this.pending.delete(this.next);
      this.emit(message);
      this.next++;
      moved = true;
    }
    if (this.pending.size === 0) this.heldSince = undefined;
    else if (moved || this.heldSince === undefined) this.heldSince = now;
  }

  private emit(message: M): void {
    this.sent.add(message.seq);
    this.written.push(message.seq);
    const window = this.options.window ?? 4_096;
    // Forget the oldest seqs written; a duplicate that old is no longer expected (and would
    // be written as late). Oldest by order of writing: seqs are written in ascending order
    // but for a late one, which is so kept a little longer than the lowest. Constant time
    // per message: this used to sort the whole set to find the lowest, which cost a
    // connection O(window log window) for every message of a room once `window` had passed
    // on it (scripts/bench/room-sequencer.ts; docs/benchmarks.md, sixth round).
    while (this.sent.size > window) this.sent.delete(this.written[this.writtenHead++]!);
    if (this.writtenHead >= window) {
      // Drop the forgotten prefix now and then, not per message (amortised constant time).
      this.written = this.written.slice(this.writtenHead);
      this.writtenHead = 0;
    }
    this.write(message);
  }
}
