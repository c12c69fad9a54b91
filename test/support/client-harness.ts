import WebSocket from 'ws';
import { createChatClient, type ChatClient } from '../../client/src/chat-client';
import type { ChatConnection, ChatConnectionOptions, StateChange } from '../../client/src/chat-connection';
import type { Message } from '../../client/src/protocol';
import type { WebSocketFactory } from '../../client/src/web-socket';
import { waitFor } from './infra';

/** The `ws` package as the connection's socket (Node 20 has no global WebSocket). */
export const wsFactory: WebSocketFactory = (url) => new WebSocket(url);

/** A user of the client library that records what its connection delivers. */
export interface ClientUser {
  readonly userId: string;
  readonly client: ChatClient;
  readonly connection: ChatConnection;
  /** Every `message` event, in the order they fired. */
  readonly delivered: Message[];
  readonly states: StateChange[];
}

/** Registers (or logs in) a user and opens a library connection; resolves once it is `open`. */
export async function connectUser({
  baseUrl,
  userId,
  password = 'password-1',
  connection: options = {},
}: {
  baseUrl: string;
  userId: string;
  /** Default password-1. */
  password?: string;
  /** Extra connection options (rooms, backoff…). Default none. */
  connection?: Omit<ChatConnectionOptions, 'url' | 'token' | 'refreshToken' | 'verifyToken' | 'webSocket'>;
}): Promise<ClientUser> {
  const client = createChatClient({ baseUrl });
  await client.api.register({ userId, password }).catch(() => undefined);
  await client.login(userId, password);
  const connection = client.connect({ webSocket: wsFactory, ...options });
  const delivered: Message[] = [];
  const states: StateChange[] = [];
  connection.on('message', (m) => delivered.push(m));
  connection.on('state', (s) => states.push(s));
  connection.connect();
  await waitFor(`${userId} open`, () => connection.state() === 'open', { timeoutMs: 30_000, intervalMs: 20 });
  return { userId, client, connection, delivered, states };
}
