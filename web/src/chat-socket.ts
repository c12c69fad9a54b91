import type { ClientFrame, ServerFrame } from '../../src/protocol/frames';

export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Close codes after which reconnecting with the same token is pointless (api.md). */
const TOKEN_INVALID = 4001;

/**
 * The WebSocket to `/ws?token=` with reconnects. api.md: "a client that sees any other
 * close [than 4001] may reconnect and resume"; so every other close, or a failed
 * connect, retries after a capped exponential backoff with full jitter (a restarted
 * server is not hit by every tab at once). A socket that never opened may mean the token
 * is no longer accepted (browsers do not show the HTTP 401 of a refused upgrade), so
 * `checkAuth` is asked before retrying.
 */
export function createChatSocket({
  token,
  onFrame,
  onState,
  onAuthLost,
  checkAuth,
  minDelayMs = 500,
  maxDelayMs = 10_000,
}: {
  token: () => string | undefined;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: SocketState, detail: string) => void;
  /** The token was refused (4001, or checkAuth said so): log in again. */
  onAuthLost: (reason: string) => void;
  /** Whether the token is still good (a REST call); false stops reconnecting. */
  checkAuth: () => Promise<boolean>;
  /** First retry delay. Default 500 ms. */
  minDelayMs?: number;
  /** Longest retry delay. Default 10 s. */
  maxDelayMs?: number;
}) {
  let ws: WebSocket | undefined;
  let attempt = 0;
  let timer: number | undefined;
  let stopped = true;

  const schedule = (detail: string): void => {
    const delay = Math.random() * Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
    attempt++;
    onState('reconnecting', `${detail}; retrying in ${(delay / 1000).toFixed(1)} s`);
    timer = window.setTimeout(open, delay);
  };

  function open(): void {
    timer = undefined;
    const bearer = token();
    if (stopped || bearer === undefined) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(bearer)}`);
    ws = socket;
    let opened = false;
    onState(attempt === 0 ? 'connecting' : 'reconnecting', 'connecting');
    socket.addEventListener('open', () => {
      opened = true;
      attempt = 0;
      onState('open', 'connected');
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      try {
        onFrame(JSON.parse(event.data) as ServerFrame);
      } catch {
        // not JSON: not a frame of ours
      }
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (ws !== socket) return;
      ws = undefined;
      if (stopped) return;
      if (event.code === TOKEN_INVALID) {
        stopped = true;
        onState('closed', event.reason || 'token expired or revoked');
        onAuthLost(event.reason || 'your session ended');
        return;
      }
      const detail = `connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
      if (opened) return schedule(detail);
      void checkAuth().then(
        (ok) => {
          if (stopped) return;
          if (ok) return schedule(detail);
          stopped = true;
          onState('closed', 'token refused');
          onAuthLost('the server no longer accepts your token (was it restarted?)');
        },
        () => schedule(detail),
      );
    });
  }

  return {
    connect(): void {
      if (!stopped) return;
      stopped = false;
      attempt = 0;
      open();
    },
    /** Sends a frame if the socket is open; returns whether it was sent. */
    send(frame: ClientFrame): boolean {
      if (ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    close(): void {
      stopped = true;
      if (timer !== undefined) window.clearTimeout(timer);
      timer = undefined;
      const socket = ws;
      ws = undefined;
      socket?.close(1000, 'bye');
      onState('closed', 'logged out');
    },
  };
}

export type ChatSocket = ReturnType<typeof createChatSocket>;
