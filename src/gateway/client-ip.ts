import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { normalizeAddress, parseTrustProxy, DEFAULT_TRUST_PROXY, type TrustProxy } from '../config/trust-proxy';

export type ClientIpRequest = Pick<IncomingMessage, 'headers' | 'socket'>;

export interface ClientIpResolver {
  /** The client's IP for per-IP limits: the first hop, from the nearest outwards, that is not a trusted proxy. */
  clientIp(req: ClientIpRequest): string;
  /**
   * Whether the hop at `index` (0: the socket peer, 1: the right-most X-Forwarded-For
   * entry, …) with this address is a trusted proxy. Express's `trust proxy` takes it, so
   * its view of the client agrees with ours.
   */
  trusts(address: string, index: number): boolean;
}

/**
 * Resolves client IPs by the TRUST_PROXY rule (config/trust-proxy.ts). The chain is the
 * socket peer, then X-Forwarded-For read from its right end: each proxy appends the peer it
 * saw, so only the right-most entries were written by proxies we trust; everything left of
 * the first untrusted hop is whatever the client chose to send, and is never read.
 */
export function createClientIpResolver(trust: TrustProxy): ClientIpResolver {
  let trusts: (address: string, index: number) => boolean;
  if (trust.kind === 'hops') {
    const hops = trust.hops;
    trusts = (_address, index) => index < hops;
  } else {
    const list = new BlockList();
    for (const c of trust.cidrs) list.addSubnet(c.address, c.prefix, c.family);
    trusts = (address) => {
      const a = normalizeAddress(address);
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    };
  }
  return {
    trusts,
    clientIp(req) {
      const direct = req.socket.remoteAddress;
      if (direct === undefined) return 'unknown';
      let ip = normalizeAddress(direct);
      if (!trusts(ip, 0)) return ip;
      const header = req.headers['x-forwarded-for'];
      const raw = Array.isArray(header) ? header.join(',') : header;
      if (raw === undefined) return ip;
      const chain = raw.split(',');
      for (let i = chain.length - 1, index = 1; i >= 0; i--, index++) {
        const entry = chain[i]!.trim();
        // A hop that is not an address (garbage, or a port we do not parse) ends the walk at
        // the last proxy we trust: the header is client-influenced text, never a key as is.
        if (entry.length > 45 || isIP(entry) === 0) return ip;
        ip = normalizeAddress(entry);
        if (!trusts(ip, index)) return ip;
      }
      // Every hop was a trusted proxy: the farthest one is the best we know.
      return ip;
    },
  };
}

const loopback = parseTrustProxy(DEFAULT_TRUST_PROXY);
if (!loopback.ok) throw new Error(`the default TRUST_PROXY does not parse: ${loopback.problems.join('; ')}`);

/** The default rule (`loopback`): a reverse proxy on the same host. */
export const loopbackClientIps: ClientIpResolver = createClientIpResolver(loopback.value);

/** The client's IP by the default rule; instances take theirs from TRUST_PROXY (app.ts). */
export function clientIp(req: ClientIpRequest): string {
  return loopbackClientIps.clientIp(req);
}
