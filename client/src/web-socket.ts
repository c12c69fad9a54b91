/**
 * What the connection needs of a WebSocket: the subset the browser's WebSocket, Node's
 * global one (Node 22+) and the `ws` package all have. Structural, so no DOM or `ws`
 * types are needed to compile against it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** readyState of an open socket (the same in every implementation). */
export const WS_OPEN = 1;

/** Makes a socket for a URL: `(url) => new WebSocket(url)` with whichever WebSocket you have. */
export type WebSocketFactory = (url: string) => WebSocketLike;

interface WebSocketConstructorLike {
  new (url: string): WebSocketLike;
}

/**
 * The global WebSocket (browsers, Node 22+), or undefined.
 */
export function globalWebSocketFactory(): WebSocketFactory | undefined {
  const ctor = (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  if (typeof ctor !== 'function') return undefined;
  return (url) => new ctor(url);
}

let nodeFactory: Promise<WebSocketFactory | undefined> | undefined;

/** A dynamic import bundlers cannot follow (see defaultWebSocketFactory). */
const importModule = (name: string): Promise<unknown> => import(/* webpackIgnore: true */ /* @vite-ignore */ name);

/**
 * The WebSocket to use when none is given: the global one (browsers, Node 22+), else the
 * `ws` package when it is installed (Node 20; npm installs it as the package's peer).
 * WHY the import goes through a function of the module name: bundlers then leave it alone,
 * so a browser build never needs or pulls in `ws` (and never runs this branch: browsers
 * have a global WebSocket).
 */
export function defaultWebSocketFactory(): Promise<WebSocketFactory | undefined> {
  const global = globalWebSocketFactory();
  if (global !== undefined) return Promise.resolve(global);
  nodeFactory ??= (async () => {
    try {
      const mod = (await importModule('ws')) as {
        WebSocket?: WebSocketConstructorLike;
        default?: WebSocketConstructorLike & { WebSocket?: WebSocketConstructorLike };
      };
      const ctor = mod.WebSocket ?? mod.default?.WebSocket ?? mod.default;
      return ctor === undefined ? undefined : (url: string) => new ctor(url);
    } catch {
      return undefined;
    }
  })();
  return nodeFactory;
}

/**
 * The /ws URL of a server: http(s)://host/base → ws(s)://host/base/ws?token=…. The token
 * goes in the query because browsers cannot set headers on a WebSocket (api.md allows both).
 */
export function socketUrl(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = `?token=${encodeURIComponent(token)}`;
  return url.toString();
}
