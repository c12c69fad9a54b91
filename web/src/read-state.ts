/**
 * The page's read state (api.md v1.1): this user's read cursor per room, as the server
 * holds it, and the other members' receipts. Unread badges are derived from the server's
 * cursor — the room list's `lastReadSeq`/`unread`, then `read` frames from this user's
 * other sockets — and the highest seq the page holds, so they survive a reload and agree
 * across tabs. A room the page shows is marked read up to its newest message: through the
 * socket when it is open, else over REST, at most once per `markDelayMs` per room; cursors
 * only move forward on the server, so a repeat or a late mark is harmless.
 */
export interface ReadState {
  /** What GET /api/rooms said about a room: its newest seq and this user's cursor on the server. */
  fromList(room: { readonly roomId: string; readonly lastSeq: number; readonly lastReadSeq: number }): void;
  /** `read` frame: this user's cursor moved elsewhere (another tab, REST). */
  onRead(roomId: string, seq: number): void;
  /** `receipt` frame: another member has read up to `seq`. */
  onReceipt(roomId: string, userId: string, seq: number): void;
  /** Unread messages of a room whose newest seq the page knows is `maxSeq`. */
  unread(roomId: string, maxSeq: number): number;
  /** The room is on screen up to `maxSeq`: mark it read there, unless it already is. */
  viewed(roomId: string, maxSeq: number): void;
  /** Members (not `me`) whose receipts say they have read `seq`, sorted. */
  seenBy(roomId: string, seq: number, me: string | undefined): string[];
  /** Forgets everything (logout). */
  clear(): void;
}

export function createReadState({
  markRead,
  markDelayMs = 300,
}: {
  /** Sends the mark (socket or REST); the server checks and stores it. */
  markRead: (roomId: string, seq: number) => void;
  /**
   * Marks wait this long and go out once per room with the newest seq. WHY: a busy room on
   * screen would otherwise cost one frame per message received, out of the same per-socket
   * frame budget the sends use. Default 300 ms.
   */
  markDelayMs?: number;
}): ReadState {
  /** This user's cursor per room, as far as the page knows: only ever raised. */
  const cursors = new Map<string, number>();
  /** The newest seq per room the server had when the list was read (unread = lastSeq − cursor there). */
  const listed = new Map<string, number>();
  const receipts = new Map<string, Map<string, number>>();
  /** Marks not sent yet: roomId → seq. */
  const unsent = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = (): void => {
    timer = undefined;
    for (const [roomId, seq] of unsent) markRead(roomId, seq);
    unsent.clear();
  };
  const raise = (roomId: string, seq: number): void => {
    if (seq > (cursors.get(roomId) ?? 0)) cursors.set(roomId, seq);
  };

  return {
    fromList({ roomId, lastSeq, lastReadSeq }) {
      // With `listed`, unread() is the server's `unread` (lastSeq − lastReadSeq) until live frames move either.
      raise(roomId, lastReadSeq);
      listed.set(roomId, Math.max(listed.get(roomId) ?? 0, lastSeq));
    },
    onRead: raise,
    onReceipt(roomId, userId, seq) {
      const room = receipts.get(roomId) ?? new Map<string, number>();
      room.set(userId, Math.max(room.get(userId) ?? 0, seq));
      receipts.set(roomId, room);
    },
    unread(roomId, maxSeq) {
      const newest = Math.max(maxSeq, listed.get(roomId) ?? 0);
      return Math.max(0, newest - (cursors.get(roomId) ?? 0));
    },
    viewed(roomId, maxSeq) {
      if (maxSeq <= (cursors.get(roomId) ?? 0)) return;
      cursors.set(roomId, maxSeq);
      unsent.set(roomId, maxSeq);
      timer ??= setTimeout(send, markDelayMs);
    },
    seenBy(roomId, seq, me) {
      const room = receipts.get(roomId);
      if (room === undefined || seq <= 0) return [];
      return [...room.entries()]
        .filter(([userId, read]) => userId !== me && read >= seq)
        .map(([userId]) => userId)
        .sort();
    },
    clear() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      unsent.clear();
      cursors.clear();
      listed.clear();
      receipts.clear();
    },
  };
}
