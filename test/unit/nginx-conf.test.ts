import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/config';
import { WS_PING_INTERVAL_MS } from '../../src/gateway/ws/ws-gateway';
import { SSE_KEEP_ALIVE_MS } from '../../src/gateway/http/stream-routes';
import { NGINX_CONF } from '../support/nginx';

/**
 * deploy/nginx.conf against the server's own intervals: nginx closes a proxied connection
 * that carried nothing for its read/send timeout, so those must outlast the traffic the
 * server guarantees (WebSocket pings, SSE comments), with room for one late beat. The e2e
 * test (test/e2e/nginx-proxy) runs the file; this keeps its numbers from drifting apart
 * from the code's without waiting minutes.
 */
const conf = readFileSync(NGINX_CONF, 'utf8');

function location(match: string): string {
  const start = conf.indexOf(`location ${match} {`);
  if (start < 0) throw new Error(`deploy/nginx.conf has no "location ${match}"`);
  return conf.slice(start, conf.indexOf('}', start));
}

function seconds(block: string, directive: string): number {
  const m = new RegExp(`^\\s*${directive}\\s+(\\d+)s;`, 'm').exec(block);
  if (m === null) throw new Error(`no ${directive} in:\n${block}`);
  return Number(m[1]) * 1000;
}

describe('deploy/nginx.conf timeouts', () => {
  it('/ws outlasts two ping intervals in both directions', () => {
    const ws = location('/ws');
    expect(seconds(ws, 'proxy_read_timeout')).toBeGreaterThanOrEqual(2 * WS_PING_INTERVAL_MS);
    expect(seconds(ws, 'proxy_send_timeout')).toBeGreaterThanOrEqual(2 * WS_PING_INTERVAL_MS);
  });

  it('/api/stream outlasts two keep-alive comments and is not buffered', () => {
    const sse = location('= /api/stream');
    expect(seconds(sse, 'proxy_read_timeout')).toBeGreaterThanOrEqual(2 * SSE_KEEP_ALIVE_MS);
    expect(sse).toMatch(/proxy_buffering off;/);
  });

  it("REST waits longer than the instance's own request timeout, so the API's 504 comes first", () => {
    expect(seconds(location('/'), 'proxy_read_timeout')).toBeGreaterThan(loadConfig({}).requestTimeoutMs);
  });

  it('passes the upgrade and the forwarded headers for every location (set once, at server level)', () => {
    for (const header of [
      'Host $http_host',
      'X-Forwarded-For $proxy_add_x_forwarded_for',
      'Upgrade $http_upgrade',
      'Connection $connection_upgrade',
    ]) {
      expect(conf).toContain(`proxy_set_header ${header};`);
    }
    // A location with its own proxy_set_header would silently drop all of the above.
    const blocks = [...conf.matchAll(/^\s*location [^{]*\{([^}]*)\}/gm)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) expect(block).not.toMatch(/^\s*proxy_set_header/m);
  });
});
