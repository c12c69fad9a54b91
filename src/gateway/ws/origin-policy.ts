/**
 * Who may open a WebSocket, judged by the `Origin` header: the defence against
 * cross-site WebSocket hijacking. A browser always sends Origin on a WebSocket handshake
 * and a page cannot forge it, while the token may ride along on its own (`?token=` in a
 * link, a proxy's cookie). So:
 *
 * - no Origin: not a browser (a CLI, a service, a test): allowed, the token decides;
 * - same origin (the Origin's host:port equals the Host header): the page we serve;
 * - an origin on the allow-list (`WS_ALLOWED_ORIGINS`, exact `scheme://host[:port]`);
 * - anything else, including the opaque origin `null` unless listed: refused.
 */
export function isOriginAllowed({
  origin,
  host,
  allowedOrigins,
}: {
  /** The Origin header, or undefined when the request has none. */
  origin: string | undefined;
  /** The Host header the request was sent to. */
  host: string | undefined;
  /** Normalised origins (`new URL(o).origin`), as config gives them. */
  allowedOrigins: readonly string[];
}): boolean {
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (allowedOrigins.includes(parsed.origin)) return true;
  // URL.host drops a default port (":443" on https), so compare the Host header the same way.
  return host !== undefined && parsed.host === normaliseHost(host, parsed.protocol);
}

function normaliseHost(host: string, protocol: string): string {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return '';
  }
}
