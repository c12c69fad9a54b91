import { z } from 'zod';
import {
  AddMemberBody,
  AnnouncementBody,
  CreateRoomBody,
  DEFAULT_MESSAGE_PAGE,
  DEFAULT_ROOM_PAGE,
  LoginBody,
  MemberPathParams,
  MessagesQuery,
  OpenDmBody,
  ReadBody,
  RegisterBody,
  RenameRoomBody,
  RoomsQuery,
  DEFAULT_USER_SEARCH_LIMIT,
  LogoutBody,
  RefreshBody,
  UserSearchQuery,
} from './http-schemas';
import {
  AcceptedResponse,
  DmResponse,
  ErrorResponse,
  HealthResponse,
  LoginResponse,
  MessagePageResponse,
  PublicUserResponse,
  ReadyResponse,
  RefreshResponse,
  RoomCreatedResponse,
  RoomListResponse,
  RoomResponse,
  UserSearchResponse,
} from './http-responses';
import { ClusterViewSchema } from './instance-view';
import { ClientFrameSchema, ServerFrameSchema } from './frames';

/**
 * The OpenAPI 3.1 document of the REST API, generated from the zod schemas the server
 * validates requests with (http-schemas.ts) and the response schemas (http-responses.ts),
 * so the document cannot drift from the code. Served at GET /api/openapi.json; a test
 * checks that every route the express app serves is in it.
 */

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without its `$schema`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  return rest;
}

type Auth = 'none' | 'bearer' | 'admin';

interface Operation {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** The express path (`:param`). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: 'auth' | 'users' | 'rooms' | 'stream' | 'admin' | 'operations' | 'web';
  readonly auth: Auth;
  readonly body?: z.ZodType;
  readonly query?: { schema: z.ZodType; defaults?: Record<string, unknown> };
  readonly success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error statuses besides the ones every authenticated route has (401). */
  readonly errors: readonly number[];
  readonly description?: string;
}

/** Every REST route of the server (api.md plus the extensions in docs/architecture.md). */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    operationId: 'register',
    summary: 'Create a user',
    tag: 'auth',
    auth: 'none',
    body: RegisterBody,
    success: { status: 201, description: 'created', schema: PublicUserResponse },
    errors: [400, 409, 413],
  },
  {
    method: 'post',
    path: '/api/auth/login',
    operationId: 'login',
    summary: 'Log in: a JWT for REST, /ws and /api/stream',
    tag: 'auth',
    auth: 'none',
    body: LoginBody,
    success: { status: 200, description: 'logged in', schema: LoginResponse },
    errors: [400, 401, 429, 504],
    description:
      "Answered by the owner of the user's partition (request-reply over Kafka). 401 INVALID_CREDENTIALS is the same for an unknown user and a wrong password.",
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'logout',
    summary: "Revoke the token everywhere, and the refresh token's family",
    tag: 'auth',
    auth: 'bearer',
    body: LogoutBody,
    success: { status: 204, description: 'revoked; sockets opened with it close with 4001' },
    errors: [400],
    description:
      'The body is optional. With `refreshToken`, its family (every refresh token rotated from the same login) stops working too; a refresh token of another user changes nothing. Access tokens issued earlier from the family stay valid until they expire.',
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    operationId: 'refresh',
    summary: 'Trade a refresh token for a new token and a new refresh token (rotation)',
    tag: 'auth',
    auth: 'none',
    body: RefreshBody,
    success: { status: 200, description: 'refreshed; the refresh token sent no longer works', schema: RefreshResponse },
    errors: [400, 401],
    description:
      'Written straight to the database, not through Kafka. 401 INVALID_REFRESH_TOKEN for a token that is unknown, expired, revoked or already used. Presenting an already-used token again revokes its whole family (the newest token too): whoever holds it must log in again. Of two refreshes with the same token at once, one succeeds and the other counts as reuse.',
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'me',
    summary: 'The current user',
    tag: 'auth',
    auth: 'bearer',
    success: { status: 200, description: 'the user', schema: PublicUserResponse },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/users',
    operationId: 'searchUsers',
    summary: 'Find users by a prefix of their userId or displayName',
    tag: 'users',
    auth: 'bearer',
    query: { schema: UserSearchQuery, defaults: { limit: DEFAULT_USER_SEARCH_LIMIT } },
    success: { status: 200, description: 'matches, in userId order', schema: UserSearchResponse },
    errors: [400, 429],
    description:
      'Case-insensitive prefix match; `%`, `_` and `\\` are plain characters. q: 1..64 characters (else 400 VALIDATION); limit 1..50, default 20. Rate-limited per user (USER_SEARCH_MAX_PER_WINDOW per USER_SEARCH_WINDOW_SECONDS): 429 RATE_LIMITED with Retry-After.',
  },
  {
    method: 'post',
    path: '/api/rooms',
    operationId: 'createRoom',
    summary: 'Create a room (the creator is a member)',
    tag: 'rooms',
    auth: 'bearer',
    body: CreateRoomBody,
    success: { status: 201, description: 'created', schema: RoomCreatedResponse },
    errors: [400, 404],
    description:
      'Every member (the creator too) then gets a `room` frame (event `created`) on each live socket: written to the outbox in the same transaction, relayed through Kafka (at least once; drop repeats by the frame `id`).',
  },
  {
    method: 'get',
    path: '/api/rooms',
    operationId: 'listRooms',
    summary: 'The rooms the user is a member of',
    tag: 'rooms',
    auth: 'bearer',
    query: { schema: RoomsQuery, defaults: { limit: DEFAULT_ROOM_PAGE } },
    success: { status: 200, description: 'a page of rooms, oldest first', schema: RoomListResponse },
    errors: [400],
    description:
      "Paged: `limit` 1..100 (default 50); `nextCursor` is present only when more rooms follow: pass it back as `cursor` for the next page. The cursor is opaque; the order (creation time, then roomId) is stable, so a walk lists every room once. Each room says its `kind` (`group` or `dm`), and carries the caller's read cursor `lastReadSeq` (0: none) and `unread` = lastSeq − lastReadSeq, never negative.",
  },
  {
    method: 'patch',
    path: '/api/rooms/:roomId',
    operationId: 'renameRoom',
    summary: 'Rename a room (members only; not a direct room)',
    tag: 'rooms',
    auth: 'bearer',
    body: RenameRoomBody,
    success: { status: 200, description: 'the room after the rename', schema: RoomResponse },
    errors: [400, 403, 404, 409],
    description:
      'Every member gets a `room` frame (event `renamed`) through the outbox; the same name again changes nothing. 409 ROOM_IS_DM for a direct room.',
  },
  {
    method: 'delete',
    path: '/api/rooms/:roomId/members/:userId',
    operationId: 'removeMember',
    summary: 'Leave a room (userId = yourself) or, as its creator, remove a member',
    tag: 'rooms',
    auth: 'bearer',
    success: { status: 204, description: 'removed: from now on the user gets nothing of the room and cannot read it' },
    errors: [400, 403, 404, 409],
    description:
      'The members left and the removed user get a `room` frame (event `member.removed`, `member` = the user) through the outbox. 403 NOT_A_MEMBER (the caller is not a member) or NOT_ROOM_CREATOR (someone else, and the caller is not the creator); 404 ROOM_NOT_FOUND or MEMBER_NOT_FOUND; 409 ROOM_IS_DM.',
  },
  {
    method: 'post',
    path: '/api/dms',
    operationId: 'openDm',
    summary: 'The direct room with another user (created when there is none)',
    tag: 'rooms',
    auth: 'bearer',
    body: OpenDmBody,
    success: { status: 201, description: 'created; 200 with the same body when the pair had its room already', schema: DmResponse },
    errors: [400, 404],
    description:
      'Exactly one room per pair, whoever asks and however often, also when both ask at once on different instances (a unique key in the database). A new one reaches both as a `room` frame (event `created`, room kind `dm`). 400 DM_WITH_SELF, 404 USER_NOT_FOUND.',
  },
  {
    method: 'post',
    path: '/api/rooms/:roomId/members',
    operationId: 'addMember',
    summary: 'Add a member (members only)',
    tag: 'rooms',
    auth: 'bearer',
    body: AddMemberBody,
    success: { status: 204, description: 'added (adding twice is a no-op)' },
    errors: [400, 403, 404],
    description:
      'A new member makes every member of the room (the new one too) get a `room` frame (event `member.added`) on each live socket, through the outbox; adding twice sends nothing.',
  },
  {
    method: 'post',
    path: '/api/rooms/:roomId/read',
    operationId: 'markRead',
    summary: 'Mark the room read up to seq (members only)',
    tag: 'rooms',
    auth: 'bearer',
    body: ReadBody,
    success: { status: 204, description: 'the read cursor is at least seq (it only moves forward: a lower seq changes nothing)' },
    errors: [400, 403, 404, 504],
    description:
      '400 READ_PAST_END when seq is past the room\'s last seq (nothing changes). The reader\'s owner moves the cursor and answers, so GET /api/rooms shows it once this returns. When the cursor moved, the caller\'s sockets get `{type:"read", roomId, seq}` and the other members `{type:"receipt", roomId, userId, seq}` (none in rooms over RECEIPTS_MAX_ROOM_MEMBERS).',
  },
  {
    method: 'get',
    path: '/api/rooms/:roomId/messages',
    operationId: 'listMessages',
    summary: "A page of a room's messages, in seq order",
    tag: 'rooms',
    auth: 'bearer',
    query: { schema: MessagesQuery, defaults: { limit: DEFAULT_MESSAGE_PAGE } },
    success: { status: 200, description: 'messages', schema: MessagePageResponse },
    errors: [400, 403, 404],
    description:
      'afterSeq: only seq > afterSeq; beforeSeq: only seq < beforeSeq (alone: the newest `limit` before it); always ascending. ' +
      'Edits and deletes (v1.1) are messages of the sequence too (`edits` names the original; a delete has `deleted: true` and text ""), ' +
      'and an original is returned as it stands now (current text and `editedAt`, or `deleted: true` with text "").',
  },
  {
    method: 'get',
    path: '/api/stream',
    operationId: 'stream',
    summary: 'Server frames as Server-Sent Events',
    tag: 'stream',
    auth: 'bearer',
    success: {
      status: 200,
      description: 'an event stream; event name = frame type, data = the frame as JSON',
      contentType: 'text/event-stream',
    },
    errors: [],
    description: 'The same server frames as the WebSocket /ws (api.md), read-only. The token may also come as ?token=.',
  },
  {
    method: 'post',
    path: '/api/admin/announcements',
    operationId: 'announce',
    summary: 'Announce to every connected client (admins)',
    tag: 'admin',
    auth: 'admin',
    body: AnnouncementBody,
    success: { status: 202, description: 'published', schema: AcceptedResponse },
    errors: [400, 403],
  },
  {
    method: 'get',
    path: '/api/admin/cluster',
    operationId: 'cluster',
    summary: 'The cluster view: instances, owned partitions, lag, connections (admins)',
    tag: 'admin',
    auth: 'admin',
    success: { status: 200, description: 'this instance first, then the others as last announced', schema: ClusterViewSchema },
    errors: [403],
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: 'OpenAPI 3.1' },
    errors: [],
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: 'the process runs', schema: HealthResponse },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: bus, database, Redis, owner group',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: 'ready (503 with the same body when not, saying which check failed)', schema: ReadyResponse },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
    errors: [],
  },
  {
    method: 'get',
    path: '/',
    operationId: 'webClient',
    summary: 'The web chat client',
    tag: 'web',
    auth: 'none',
    success: { status: 200, description: 'HTML page', contentType: 'text/html' },
    errors: [],
  },
  {
    method: 'get',
    path: '/admin',
    operationId: 'adminPage',
    summary: 'The cluster view page',
    tag: 'web',
    auth: 'none',
    success: { status: 200, description: 'HTML page', contentType: 'text/html' },
    errors: [],
  },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION, INVALID_JSON, PASSWORD_TOO_LONG, DM_WITH_SELF or READ_PAST_END',
  401: 'UNAUTHORIZED, INVALID_CREDENTIALS, TOKEN_EXPIRED or TOKEN_REVOKED',
  403: 'FORBIDDEN, NOT_A_MEMBER or NOT_ROOM_CREATOR',
  404: 'USER_NOT_FOUND, ROOM_NOT_FOUND or MEMBER_NOT_FOUND',
  409: 'USER_EXISTS or ROOM_IS_DM',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED (see Retry-After)',
  503: 'UNAVAILABLE (see Retry-After)',
  504: 'TIMEOUT',
};

/** `/api/rooms/:roomId` → `/api/rooms/{roomId}`. */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(op: Operation): JsonSchema[] {
  const params: JsonSchema[] = [];
  const pathParams = jsonSchema(MemberPathParams).properties as Record<string, JsonSchema>;
  for (const [, name] of op.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    params.push({ name, in: 'path', required: true, schema: pathParams[name ?? ''] ?? { type: 'string' } });
  }
  if (op.query !== undefined) {
    // The parsed (output) side: what the values mean once decoded, integers with bounds.
    const properties = (jsonSchema(op.query.schema, 'output').properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, schema] of Object.entries(properties)) {
      const fallback = op.query.defaults?.[name];
      params.push({ name, in: 'query', required: false, schema: fallback === undefined ? schema : { ...schema, default: fallback } });
    }
  }
  return params;
}

function operationObject(op: Operation): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  const success: JsonSchema = { description: op.success.description };
  if (op.success.schema !== undefined) success['content'] = { 'application/json': { schema: jsonSchema(op.success.schema, 'output') } };
  else if (op.success.contentType !== undefined) success['content'] = { [op.success.contentType]: { schema: { type: 'string' } } };
  responses[String(op.success.status)] = success;
  const errors = new Set(op.errors);
  if (op.auth !== 'none') errors.add(401);
  if (op.auth === 'admin') errors.add(403);
  for (const status of [...errors].sort((a, b) => a - b)) {
    if (responses[String(status)] !== undefined) continue;
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const parameters = parametersOf(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description === undefined ? {} : { description: op.description }),
    tags: [op.tag],
    ...(op.auth === 'none' ? { security: [] } : {}),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(op.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } }),
    responses,
  };
}

/** The document. `serverUrl`: where it is served from (default: relative, the same origin). */
export function buildOpenApiDocument({
  version = '0.1.0',
  serverUrl = '/',
}: { /** Default 0.1.0. */ version?: string; /** Default '/'. */ serverUrl?: string } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) {
    const path = toOpenApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'keyed-chat',
      version,
      description:
        'REST API of the keyed-partition chat backend (api.md, extensions in docs/architecture.md). ' +
        'Live traffic goes over the WebSocket `/ws?token=<JWT>` (frames in api.md), or read-only over `/api/stream` (SSE). ' +
        'Every error body is `{"error": {"code", "message"}}`.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'auth' },
      { name: 'users' },
      { name: 'rooms' },
      { name: 'stream' },
      { name: 'admin', description: 'users listed in ADMIN_USER_IDS' },
      { name: 'operations' },
      { name: 'web' },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      // The WebSocket / SSE frames (api.md plus the extensions in docs/architecture.md): what
      // the server sends, and what a client may send on /ws (edit and delete among them).
      schemas: {
        Error: jsonSchema(ErrorResponse, 'output'),
        ServerFrame: jsonSchema(ServerFrameSchema, 'output'),
        ClientFrame: jsonSchema(ClientFrameSchema, 'input'),
      },
    },
  };
}
