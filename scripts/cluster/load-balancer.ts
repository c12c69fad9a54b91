import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A small round-robin load balancer for a local cluster: plain HTTP requests and WebSocket
 * upgrades alike go to the next live backend, so any request may land on any instance —
 * which is the point of the product. A backend that refuses a connection is skipped for
 * `cooldownMs` and the request goes to the next one.
 */
export interface Backend {
  readonly host: string;
  readonly port: number;
}

export function createLoadBalancer({
  backends,
  cooldownMs = 2_000,
  onError = () => undefined,
}: {
  backends: readonly Backend[];
  /** How long a backend that refused a connection is skipped. Default 2 s. */
  cooldownMs?: number;
  onError?: (message: string) => void;
}): Server {
  let next = 0;
  const downUntil = new Map<number, number>();

  /** Backends in round-robin order from the next one, live ones first. */
  const order = (): number[] => {
    const start = next;
    next = (next + 1) % backends.length;
    const all = backends.map((_, i) => (start + i) % backends.length);
    const now = Date.now();
    return [...all.filter((i) => (downUntil.get(i) ?? 0) <= now), ...all.filter((i) => (downUntil.get(i) ?? 0) > now)];
  };
  const markDown = (i: number): void => {
    downUntil.set(i, Date.now() + cooldownMs);
  };

  const server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const candidates = order();
      const attempt = (k: number): void => {
        const i = candidates[k];
        if (i === undefined) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'no instance is reachable' } }));
          return;
        }
        const b = backends[i]!;
        const upstream = request(
          {
            host: b.host,
            port: b.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' },
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          // Only a refused connection is retried elsewhere: the request never reached the instance.
          if (error.code === 'ECONNREFUSED' && !res.headersSent) {
            markDown(i);
            attempt(k + 1);
          } else {
            onError(`backend ${b.port}: ${error.message}`);
            if (!res.headersSent) res.writeHead(502);
            res.end();
          }
        });
        upstream.end(Buffer.concat(body));
      };
      attempt(0);
    });
  });

  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const candidates = order();
    const attempt = (k: number): void => {
      const i = candidates[k];
      if (i === undefined) {
        client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
        return;
      }
      const b = backends[i]!;
      const upstream: Socket = connect(b.port, b.host, () => {
        // Replay the upgrade request as received, then splice the two sockets together.
        const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
        for (let j = 0; j < req.rawHeaders.length; j += 2) lines.push(`${req.rawHeaders[j]}: ${req.rawHeaders[j + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && upstream.bytesWritten === 0) {
          markDown(i);
          attempt(k + 1);
        } else {
          client.destroy();
        }
      });
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    attempt(0);
  });

  return server;
}
