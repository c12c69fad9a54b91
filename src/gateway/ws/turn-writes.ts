/**
 * Coalesces what one connection is sent during one turn of the event loop into one
 * socket write.
 *
 * Why: frames reach a connection in bursts. The gateway hands out a whole fetch batch of
 * relayed records at once, and when the bus runs behind (heavy load) that batch holds
 * several messages for the same connection. `ws` writes each frame on its own: a write
 * system call, a TCP segment and, on loopback or a proxy, a wake-up of the reader per
 * frame. Corked for the rest of the turn, the frames leave in one `writev`.
 *
 * Guarantees: order is kept (cork only delays; the stream writes in the order it was
 * given); nothing waits past the turn it was sent in (the uncork is a `process.nextTick`,
 * which runs once the current callback and the promise jobs it queued are done, before
 * any I/O); a frame sent alone in its turn costs one write, as before; at most
 * `flushAtBytes` (and the frame being written) wait in the stream unoffered to the kernel.
 * That bound matters because a turn can be long (a resume writes up to
 * RESUME_MAX_MESSAGES per room in one loop) and the gateway's slow-client check reads
 * `bufferedAmount`, which counts corked bytes: it must keep seeing only what the kernel
 * would not take, as without the cork. `ws`'s own cork/uncork around a frame's header and
 * body nests inside this one (Node counts corks).
 */
export interface TurnWrites {
  /** Call before each write: the first in a turn corks the socket until the turn ends. */
  hold(): void;
}

/** The part of a socket (`net.Socket`, any `Writable`) this needs. */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly writableCorked: number;
  readonly writableLength: number;
}

export function createTurnWrites(
  socket: Corkable,
  {
    flushAtBytes = 64 * 1024,
    defer = process.nextTick,
  }: {
    /** Held bytes (the stream's whole unwritten length) past which the turn's writes go out at once. Default 64 KiB. */
    flushAtBytes?: number;
    /** Runs the release at the turn's end. Default process.nextTick. */
    defer?: (fn: () => void) => void;
  } = {},
): TurnWrites {
  let held = false;
  const release = (): void => {
    held = false;
    // A socket ended or destroyed meanwhile may have released its corks; never uncork past zero.
    if (socket.writableCorked > 0) socket.uncork();
  };
  return {
    hold() {
      if (!held) {
        held = true;
        socket.cork();
        defer(release);
        return;
      }
      if (socket.writableLength >= flushAtBytes && socket.writableCorked > 0) {
        // A long turn: what is held goes to the kernel now, and the turn holds again.
        socket.uncork();
        socket.cork();
      }
    },
  };
}
