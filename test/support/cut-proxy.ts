import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy whose network can be cut: `cut()` destroys every connection through it at
 * once, mid-frame if need be, which is what a client sees when its Wi-Fi drops or a load
 * balancer dies (bytes in flight in either direction are lost). New connections go to the
 * targets in turn (round robin), so after a cut a client may land on another instance.
 */
export interface CutProxy {
  readonly port: number;
  readonly url: string;
  /** Open client connections. */
  connections(): number;
  /** Destroys every open connection; new ones are accepted as before. */
  cut(): number;
  /**
   * Freezes every open connection: nothing more is forwarded either way and nothing is
   * closed, as when a network silently drops packets (no FIN, no RST ever arrives; only a
   * client's own keep-alive notices). New connections are forwarded as before.
   */
  freeze(): number;
  close(): Promise<void>;
}

export async function startCutProxy({ targets }: { targets: readonly { host: string; port: number }[] }): Promise<CutProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const frozen = new Set<Socket>();
  let next = 0;
  const server = createServer((client) => {
    const target = targets[next++ % targets.length]!;
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('error', () => client.destroy());
    upstream.on('error', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    const done = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections: () => pairs.size,
    freeze() {
      const n = pairs.size;
      for (const pair of [...pairs]) {
        const [client, upstream] = pair;
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        pairs.delete(pair);
        frozen.add(client).add(upstream);
      }
      return n;
    },
    cut() {
      const n = pairs.size;
      for (const [client, upstream] of [...pairs]) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        for (const s of frozen) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** http://host:port → {host, port}. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}
