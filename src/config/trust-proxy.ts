import { isIPv4, isIPv6 } from 'node:net';

/**
 * `TRUST_PROXY`: which peers may tell us, in X-Forwarded-For, who the client is. Per-IP
 * limits (login failures, WebSocket handshakes) count by the client IP this yields, so
 * trusting too little makes every client behind a remote proxy one IP, and trusting too
 * much lets a client pick its own IP by sending the header.
 *
 * - a hop count `N` (0–32): the N nearest addresses (the socket peer first, then
 *   X-Forwarded-For from its right end) are proxies; the next one is the client. Only
 *   right when nothing can reach the instances except through those N proxies. `0`
 *   believes no header.
 * - a list of addresses and CIDR blocks (`10.0.0.0/8, 192.0.2.7, fd00::/8`), and the names
 *   `loopback`, `linklocal`, `uniquelocal`: a hop is a proxy when its address is listed;
 *   the first address from the right that is not listed is the client. The default is
 *   `loopback`: a proxy on the same host (the rule before TRUST_PROXY existed).
 */
export type TrustProxy = { readonly kind: 'hops'; readonly hops: number } | { readonly kind: 'cidrs'; readonly cidrs: readonly Cidr[] };

export interface Cidr {
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
  readonly prefix: number;
}

export const DEFAULT_TRUST_PROXY = 'loopback';

/** The same names Express's `trust proxy` knows, with the same ranges. */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const MAX_HOPS = 32;

export type TrustProxyParse =
  { readonly ok: true; readonly value: TrustProxy } | { readonly ok: false; readonly problems: readonly string[] };

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) as plain IPv4. */
export function normalizeAddress(address: string): string {
  const unzoned = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(unzoned);
  return mapped !== null ? mapped[1]! : unzoned.toLowerCase();
}

function parseCidr(entry: string): Cidr | string {
  const slash = entry.indexOf('/');
  const address = normalizeAddress(slash < 0 ? entry : entry.slice(0, slash));
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return `"${entry}" is neither an IP address, a CIDR block nor one of ${Object.keys(NAMED_RANGES).join(', ')}`;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash < 0) return { family, address, prefix: max };
  const prefixText = entry.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${entry}": the prefix length must be 0–${max}`;
  return { family, address, prefix };
}

/** Parses TRUST_PROXY; every problem is listed (config.ts reports them with the others). */
export function parseTrustProxy(text: string): TrustProxyParse {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const hops = Number(trimmed);
    if (hops > MAX_HOPS) return { ok: false, problems: [`a hop count must be 0–${MAX_HOPS}, got ${trimmed}`] };
    return { ok: true, value: { kind: 'hops', hops } };
  }
  const entries = trimmed
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) return { ok: false, problems: ['give a hop count or a list of addresses/CIDR blocks'] };
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const name = entry.toLowerCase();
    const named = Object.hasOwn(NAMED_RANGES, name) ? NAMED_RANGES[name] : undefined;
    for (const part of named ?? [entry]) {
      const parsed = parseCidr(part);
      if (typeof parsed === 'string') problems.push(parsed);
      else cidrs.push(parsed);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { kind: 'cidrs', cidrs } };
}
