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
 * any I/O); a frame sent alone in its turn costs one write, as before. `ws`'s own
 * cork/uncork around a frame's header and body nests inside this one (Node counts corks).
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
}

export function createTurnWrites(socket: Corkable, defer: (fn: () => void) => void = process.nextTick): TurnWrites {
  let held = false;
  const release = (): void => {
    held = false;
    // A socket destroyed meanwhile may have reset its corks; never uncork past zero.
    if (socket.writableCorked > 0) socket.uncork();
  };
  return {
    hold() {
      if (held) return;
      held = true;
      socket.cork();
      defer(release);
    },
  };
}
