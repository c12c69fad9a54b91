import type { Message } from './protocol.js';

/**
 * Per room: hands messages to the application once each, in seq order, with no gap, and
 * knows where to resume from.
 *
 * Guarantees, per tracked room:
 * - a message is released only when every lower seq (above the start point) has been
 *   released: in order, no gap;
 * - a seq is released at most once: repeats (a resume re-sending what arrived live, an ack
 *   and a `message` frame of one message, a retried send's second ack) are dropped;
 * - `resumePoints()` gives the highest CONTIGUOUS seq of each room, never the highest
 *   seen. WHY: an ack for seq 50 can arrive while seq 49 from another member is still in
 *   flight; resuming after 50 would skip 49 for good (a bug this project had once).
 *
 * Edit and delete events (api.md v1.1) are messages of the sequence like any other, so they
 * are released here in seq order with the rest; a MessageTimeline (message-timeline.ts)
 * applies them to the originals for display.
 *
 * Messages above a gap wait in a buffer; `overdueGaps` names rooms whose gap has lasted
 * too long, so the connection can ask the server again (a `resume` from the floor).
 */
export interface RoomStreams {
  /**
   * Starts tracking a room after `afterSeq` (messages with a higher seq are released).
   * A room already tracked keeps its place: tracking never moves a room backwards or skips.
   * Returns whether the room was new.
   */
  track(roomId: string, afterSeq: number): boolean;
  /** Stops tracking a room (left it); its buffered messages are dropped. */
  untrack(roomId: string): void;
  isTracked(roomId: string): boolean;
  /**
   * Offers a message (live, from a resume, or an ack); returns the messages now released,
   * in order (possibly none, possibly several when it closed a gap). A message of an
   * untracked room starts that room's stream at its own seq.
   */
  offer(message: Message, now: number): Message[];
  /** Per tracked room, the highest contiguous seq released: what a `resume` asks after. */
  resumePoints(): Record<string, number>;
  /** Rooms whose oldest buffered message has waited `timeoutMs` or more for a lower seq. */
  overdueGaps(now: number, timeoutMs: number): string[];
  /** Whether any room holds messages above a gap. */
  waiting(): boolean;
}

interface Room {
  floor: number;
  readonly above: Map<number, Message>;
  /** When the buffer became non-empty (ms); undefined when it is empty. */
  waitingSince: number | undefined;
}

export function createRoomStreams(): RoomStreams {
  const rooms = new Map<string, Room>();
  const track = (roomId: string, afterSeq: number): boolean => {
    if (rooms.has(roomId)) return false;
    rooms.set(roomId, { floor: Math.max(0, Math.floor(afterSeq)), above: new Map(), waitingSince: undefined });
    return true;
  };
  return {
    track,
    untrack: (roomId) => void rooms.delete(roomId),
    isTracked: (roomId) => rooms.has(roomId),
    offer(message, now) {
      if (!rooms.has(message.roomId)) track(message.roomId, message.seq - 1);
      const room = rooms.get(message.roomId)!;
      if (message.seq <= room.floor || room.above.has(message.seq)) return [];
      room.above.set(message.seq, message);
      const released: Message[] = [];
      for (let next = room.above.get(room.floor + 1); next !== undefined; next = room.above.get(room.floor + 1)) {
        room.above.delete(next.seq);
        room.floor = next.seq;
        released.push(next);
      }
      if (room.above.size === 0) room.waitingSince = undefined;
      else if (released.length > 0 || room.waitingSince === undefined) room.waitingSince = now;
      return released;
    },
    resumePoints: () => Object.fromEntries([...rooms].map(([roomId, room]) => [roomId, room.floor])),
    overdueGaps: (now, timeoutMs) =>
      [...rooms].filter(([, r]) => r.waitingSince !== undefined && now - r.waitingSince >= timeoutMs).map(([roomId]) => roomId),
    waiting: () => [...rooms.values()].some((r) => r.above.size > 0),
  };
}
