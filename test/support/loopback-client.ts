import { request } from 'node:http';
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';

/**
 * Clients with addresses of their own on one machine: Linux routes all of 127.0.0.0/8 to
 * the loopback interface, so a socket bound to 127.x.y.z reaches any local listener and
 * is seen coming from that address. A random one per client keeps runs and concurrent
 * tests apart (the login throttle's per-IP counters live in the shared Redis for 15 min).
 */
export function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/** An HTTP request with a JSON body (when given) from `localAddress`. */
export async function httpFrom(
  localAddress: string,
  url: string,
  { method = 'GET', body, headers = {} }: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      localAddress,
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
        ...headers,
      },
      timeout: 30_000,
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.end(payload);
  });
}

/**
 * Opens a WebSocket from `localAddress` and closes it at once: the handshake's HTTP status
 * (101 when upgraded, else the refusal's), for tests of the handshake limits.
 */
export async function handshakeFrom(localAddress: string, wsUrl: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { localAddress, headers, handshakeTimeout: 30_000 });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}
