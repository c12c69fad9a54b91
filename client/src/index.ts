/**
 * keyed-chat client: the REST API and a WebSocket connection with reconnect, resume,
 * in-order once-only delivery and idempotent sends. Runs in browsers and on Node; its only
 * runtime need is a WebSocket (the global one, or the `ws` package on Node 20).
 * @packageDocumentation
 */
export { createChatClient, type ChatClient, type ChatClientOptions, type Session } from './chat-client.js';
export {
  createChatConnection,
  type ChatConnection,
  type ChatConnectionOptions,
  type ConnectionEvents,
  type ConnectionProblem,
  type ConnectionState,
  type RoomChange,
  type SendOptions,
  type StateChange,
} from './chat-connection.js';
export { ChatError, isServerErrorCode, type ClientErrorCode } from './chat-error.js';
export { createRestApi, type FetchLike, type HttpMethod, type RestApi, type RestApiOptions } from './rest-api.js';
export { createRoomStreams, type RoomStreams } from './room-streams.js';
export { createPresenceMap, type PresenceMap } from './presence-map.js';
export { createMessageTimeline, type MessageTimeline } from './message-timeline.js';
export { createBackoff, type Backoff, type BackoffOptions } from './backoff.js';
export type { TypedEvents } from './typed-events.js';
export {
  defaultWebSocketFactory,
  globalWebSocketFactory,
  socketUrl,
  WS_OPEN,
  type WebSocketFactory,
  type WebSocketLike,
} from './web-socket.js';
export * from './protocol.js';
