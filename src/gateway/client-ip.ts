import type { IncomingMessage } from 'node:http';

/**
 * The client's IP, for per-IP limits. Follows the rule the Express app uses (`trust proxy`
 * = loopback): X-Forwarded-For is believed only as far as the hops that added it are on
 * this host, so a reverse proxy beside the instance passes the real client on, and a
 * remote client cannot pick its own IP by sending the header itself. Walks the chain from
 * the nearest hop outwards and stops at the first address that is not loopback.
 */
export function clientIp(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
  const direct = req.socket.remoteAddress ?? 'unknown';
  if (!isLoopback(direct)) return direct;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw === undefined) return direct;
  const chain = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  let ip = direct;
  for (let i = chain.length - 1; i >= 0 && isLoopback(ip); i--) ip = chain[i]!;
  // The header is client-controlled text: keep only what can be an address, bounded.
  return /^[0-9A-Fa-f:.]{2,45}$/.test(ip) ? ip : direct;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
