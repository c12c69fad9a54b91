import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy that can stall: while paused it forwards no byte in either direction but
 * keeps every connection open (and accepts new ones), which is what a database looks like
 * when it hangs — no error, no reset, just silence. Used to stall PostgreSQL for the
 * instances of a fault test without touching the shared server.
 */
export interface StallProxy {
  readonly port: number;
  /** Open client connections (each paired with one upstream connection). */
  connections(): number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startStallProxy(target: { host: string; port: number }): Promise<StallProxy> {
  let paused = false;
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  // Socket.pause stops reading: the bytes stay in the kernel's buffers (and, once those are
  // full, TCP flow control holds the sender), and nothing is lost when reading resumes.
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    if (paused) s.pause();
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => {
      upstream.destroy();
      pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    connections: () => pairs.size,
    pause() {
      paused = true;
      for (const s of sockets) s.pause();
    },
    resume() {
      paused = false;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: StallProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
