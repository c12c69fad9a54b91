import type { ClientFrame, ServerFrame } from '../../client/src/protocol';
import type { WebSocketFactory, WebSocketLike } from '../../client/src/web-socket';

type Listener = (event: never) => void;

/**
 * A WebSocket the test plays the server of: it records what the client sends and lets the
 * test open it, push frames and close it with any code. Events are delivered synchronously,
 * so a test under fake timers controls every interleaving.
 */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: ClientFrame[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as ClientFrame);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedByClient = { code, reason };
    this.readyState = 3;
    this.emit('close', { code: code ?? 1005, reason: reason ?? '' });
  }

  /** The token the client connected with (`?token=`). */
  token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }

  // ---- the server's side ----

  open(): void {
    this.readyState = 1;
    this.emit('open', {});
  }

  /** Opens and sends `ready`. */
  accept(userId = 'alice'): void {
    this.open();
    this.push({ type: 'ready', userId, connectionId: 'c1' });
  }

  push(frame: ServerFrame): void {
    this.emit('message', { data: JSON.stringify(frame) });
  }

  /** The server (or the network) closes the socket. */
  drop(code = 1006, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', { code, reason });
  }

  sentOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }

  private emit(type: string, event: unknown): void {
    for (const l of this.listeners.get(type) ?? []) (l as (e: unknown) => void)(event);
  }
}

/** A factory that keeps every socket it made, newest last. */
export function fakeSockets(): { factory: WebSocketFactory; sockets: FakeWebSocket[]; last(): FakeWebSocket } {
  const sockets: FakeWebSocket[] = [];
  return {
    factory: (url) => {
      const s = new FakeWebSocket(url);
      sockets.push(s);
      return s;
    },
    sockets,
    last: () => {
      const s = sockets[sockets.length - 1];
      if (s === undefined) throw new Error('no socket was opened');
      return s;
    },
  };
}
