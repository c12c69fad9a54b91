/**
 * A request URL fit for a log line. Browsers cannot set headers on a WebSocket or an
 * EventSource, so those clients send their JWT as `?token=`; a logged URL would then hold
 * a working credential. Its value is replaced; the rest of the URL stays for debugging.
 */
export function redactUrl(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
