/**
 * How many sockets this instance holds, in all and per client IP, with a slot taken at
 * the handshake's first check and given back when the handshake is refused or the socket
 * closes. Taking the slot before the (asynchronous) token check means handshakes racing
 * each other cannot together pass a cap; a socket already connected is never touched.
 * The per-user cap is not here: only the user's owner sees the user's sockets on every
 * instance (owner/session-handler.ts).
 */
export interface ConnectionCaps {
  /** Takes a slot for `ip`, or says which cap is full. */
  acquire(ip: string): 'ok' | 'per-ip' | 'instance';
  /** Gives back a slot `acquire` returned 'ok' for. */
  release(ip: string): void;
  /** Sockets (and handshakes in flight) held now. */
  size(): number;
}

export function createConnectionCaps({
  maxPerIp,
  maxTotal,
}: {
  /** Sockets one client IP may hold on this instance (WS_MAX_CONNECTIONS_PER_IP). */
  maxPerIp: number;
  /** Sockets this instance holds at most (WS_MAX_CONNECTIONS). */
  maxTotal: number;
}): ConnectionCaps {
  const perIp = new Map<string, number>();
  let total = 0;
  return {
    acquire(ip) {
      if (total >= maxTotal) return 'instance';
      const held = perIp.get(ip) ?? 0;
      if (held >= maxPerIp) return 'per-ip';
      perIp.set(ip, held + 1);
      total++;
      return 'ok';
    },
    release(ip) {
      const held = perIp.get(ip);
      if (held === undefined) return;
      if (held <= 1) perIp.delete(ip);
      else perIp.set(ip, held - 1);
      total--;
    },
    size: () => total,
  };
}
