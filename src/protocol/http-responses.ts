import { z } from 'zod';
import { UserIdSchema } from './envelope-ids';
import { MessageSchema } from './message';
import { ErrorCodes } from './error-codes';
import { ROOM_KINDS } from './frames';

/**
 * Response bodies of the REST API (api.md), for the OpenAPI document and for tests that
 * check what the server answers. The server builds these answers itself (it does not parse
 * them), so they describe; http-schemas.ts holds what it validates.
 */
export const PublicUserResponse = z.object({ userId: UserIdSchema, displayName: z.string() });

export const LoginResponse = z.object({
  token: z.string().describe('JWT (HS256); send it as `Authorization: Bearer <token>`, or `?token=` on /ws and /api/stream'),
  expiresIn: z.number().int().describe('seconds until the token expires'),
  refreshToken: z.string().describe('opaque; POST /api/auth/refresh trades it, once, for a new token and a new refresh token'),
  refreshExpiresIn: z.number().int().describe('seconds until the refresh token expires (REFRESH_TOKEN_TTL_SECONDS)'),
  user: PublicUserResponse,
});

export const RefreshResponse = z.object({
  token: z.string().describe('a new JWT'),
  expiresIn: z.number().int().describe('seconds until the token expires'),
  refreshToken: z.string().describe("the sent refresh token's successor; the sent one no longer works"),
  refreshExpiresIn: z.number().int().describe('seconds until the new refresh token expires'),
});

export const UserSearchResponse = z.object({ users: z.array(PublicUserResponse).describe('in userId order') });

export const RoomCreatedResponse = z.object({ roomId: z.string(), name: z.string(), members: z.array(UserIdSchema) });

/** A room as PATCH /api/rooms/:roomId answers it. */
export const RoomResponse = z.object({
  roomId: z.string(),
  name: z.string(),
  members: z.array(UserIdSchema),
  lastSeq: z.number().int().min(0),
  kind: z.enum(ROOM_KINDS).describe('`dm`: the direct room of a pair (POST /api/dms)'),
});

/** A room as GET /api/rooms lists it: with the caller's read state. */
export const RoomListEntry = RoomResponse.extend({
  lastReadSeq: z.number().int().min(0).describe("the caller's read cursor in the room (0: nothing read)"),
  unread: z.number().int().min(0).describe('lastSeq − lastReadSeq, never negative'),
});

export const RoomListResponse = z.object({
  rooms: z.array(RoomListEntry).describe('oldest first'),
  nextCursor: z.string().optional().describe('present only when there are more rooms: pass it as `cursor` for the next page'),
});

/** POST /api/dms answer. */
export const DmResponse = z.object({ roomId: z.string(), kind: z.literal('dm'), name: z.string(), members: z.array(UserIdSchema) });

export const MessagePageResponse = z.object({ messages: z.array(MessageSchema).describe('in seq order') });

export const AcceptedResponse = z.object({ id: z.string() });

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string().describe(`a stable code: ${Object.keys(ErrorCodes).join(', ')}`),
    message: z.string().describe('human readable'),
  }),
});

export const HealthResponse = z.object({ status: z.literal('ok'), instanceId: z.string() });

export const ReadyResponse = z.object({
  status: z.enum(['ready', 'not ready']),
  instanceId: z.string(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
  owner: z.object({ memberId: z.string().nullable(), partitions: z.array(z.number().int()) }).optional(),
});
