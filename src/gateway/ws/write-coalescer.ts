import type { Writable } from 'node:stream';

/**
 * Holds a socket's writes until the end of the current turn of the event loop, so that the
 * frames written to it meanwhile leave in one `writev` — one system call, and one wake-up of
 * the reader — instead of one each.
 *
 * Why: every `ws.send` is a system call of its own (ws corks the header and the payload
 * together, nothing more), and under load one inbox batch carries several frames for the same
 * socket (its user's acks and the messages of its rooms). In a CPU profile at 1000 msg/s the
 * sockets' writes were a tenth of an instance's time (docs/benchmarks.md).
 *
 * Guarantees: frames keep their order (a corked stream buffers in order); nothing waits
 * longer than the rest of this turn (`setImmediate` runs after the I/O callbacks of the
 * current turn, typically well under a millisecond); a socket destroyed meanwhile is
 * uncorked harmlessly. `hold()` before each write; nesting with ws's own cork is fine, the
 * stream flushes when the last cork is released.
 */
export function createWriteCoalescer(
  socket: Pick<Writable, 'cork' | 'uncork'>,
  defer: (release: () => void) => unknown = setImmediate,
): { hold(): void } {
  let held = false;
  const release = (): void => {
    held = false;
    socket.uncork();
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
