import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/frames';
import { waitFor } from './infra';

/**
 * A real `ws` client that records every frame it receives: the protocol tests' tool for
 * speaking raw frames, malformed or out of order ones included, and reading exactly what
 * the server answered. It is deliberately not a chat client: no reconnect, resume, dedupe
 * or re-send. Tests that need a client behaving like an application use the client
 * package's connection (test/support/client-harness.ts, and ResilientClient in
 * test/support/chat-client.ts for the fault tests).
 */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  closeReason: string | undefined;
  private constructor(
    readonly ws: WebSocket,
    readonly name: string,
  ) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as ServerFrame));
    ws.on('close', (code, reason) => {
      this.closeReason = reason.toString();
      this.closeCode = code;
    });
    ws.on('error', () => undefined);
  }

  /**
   * Connects and waits for the `ready` frame (the owner registered the session). `headers`
   * are added to the handshake (Origin, X-Forwarded-For to act as another client IP);
   * `localAddress` connects from that address (any of 127.0.0.0/8 is this host).
   */
  static async connect(
    baseUrl: string,
    token: string,
    name = 'client',
    { headers = {}, localAddress }: { headers?: Record<string, string>; localAddress?: string } = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(localAddress === undefined ? {} : { localAddress }),
    });
    const client = new TestClient(ws, name);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`${name}: upgrade refused with ${res.statusCode}`)));
      ws.once('error', reject);
    });
    await client.waitFor(`${name} ready`, (f) => f.type === 'ready', 30_000);
    return client;
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  of<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
  }

  async waitFor(what: string, predicate: (f: ServerFrame) => boolean, timeoutMs = 30_000): Promise<ServerFrame> {
    return waitFor(what, () => this.frames.find(predicate), { timeoutMs, intervalMs: 20 });
  }

  /** Resolves with the close code once the server (or the client) has closed the socket. */
  async closed(timeoutMs = 10_000): Promise<number> {
    return waitFor(`${this.name} closed`, () => this.closeCode, { timeoutMs, intervalMs: 20 });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
