import { z } from 'zod';
import { UserIdSchema } from './envelope';
import { ReadSeqSchema, RoomIdSchema } from './message';
import { STORABLE_TEXT } from './storable-text';

const storable = 'must be well-formed Unicode without NUL characters';

/**
 * Request bodies of the REST API (api.md). The server validates with these, and the
 * OpenAPI document is generated from them, so the two cannot drift apart.
 */
export const PasswordSchema = z.string().min(8, 'at least 8 characters');

export const RegisterBody = z.strictObject({
  userId: UserIdSchema,
  password: PasswordSchema,
  displayName: z.string().trim().min(1).max(100).regex(STORABLE_TEXT, storable).optional(),
});
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z.strictObject({
  userId: UserIdSchema,
  // Length in bytes is checked separately (bcrypt's 72-byte limit, its own error code).
  password: z.string().min(1).max(1024),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** POST /api/auth/refresh. Any string is taken (a wrong one is 401 INVALID_REFRESH_TOKEN); only its type and size are checked here. */
export const RefreshBody = z.strictObject({ refreshToken: z.string().max(1024) });
export type RefreshBody = z.infer<typeof RefreshBody>;

/** POST /api/auth/logout: the refresh token whose family ends with the session (optional). */
export const LogoutBody = z.strictObject({ refreshToken: z.string().max(1024).optional() });
export type LogoutBody = z.infer<typeof LogoutBody>;

/** GET /api/users?q=&limit= bounds. */
export const MAX_USER_SEARCH_QUERY = 64;
export const MAX_USER_SEARCH_LIMIT = 50;
export const DEFAULT_USER_SEARCH_LIMIT = 20;

/** GET /api/users?q=&limit=: a prefix of 1..64 characters (taken as typed, spaces included), limit 1..50 (default 20). */
export const UserSearchQuery = z.object({
  q: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_USER_SEARCH_QUERY, `at most ${MAX_USER_SEARCH_QUERY} characters`)
    .regex(STORABLE_TEXT, storable),
  limit: z
    .string()
    .regex(/^\d{1,9}$/, 'a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_USER_SEARCH_LIMIT))
    .default(DEFAULT_USER_SEARCH_LIMIT),
});
export type UserSearchQuery = z.infer<typeof UserSearchQuery>;

/** Most messages one GET /api/rooms/:roomId/messages answers (and the stores return). */
export const MAX_MESSAGE_PAGE = 200;
export const DEFAULT_MESSAGE_PAGE = 50;
/** Most members a new room may be created with, besides its creator. */
export const MAX_INITIAL_MEMBERS = 100;

/** A room's name, as created or renamed. */
const RoomNameSchema = z.string().trim().min(1).max(100).regex(STORABLE_TEXT, storable);

export const CreateRoomBody = z.strictObject({
  name: RoomNameSchema,
  members: z
    .array(UserIdSchema)
    .max(MAX_INITIAL_MEMBERS)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a userId')
    .optional(),
});
export type CreateRoomBody = z.infer<typeof CreateRoomBody>;

export const AddMemberBody = z.strictObject({
  userId: UserIdSchema,
});
export type AddMemberBody = z.infer<typeof AddMemberBody>;

/** POST /api/dms: the other user of the direct room. */
export const OpenDmBody = z.strictObject({
  userId: UserIdSchema,
});
export type OpenDmBody = z.infer<typeof OpenDmBody>;

/** PATCH /api/rooms/:roomId. */
export const RenameRoomBody = z.strictObject({
  name: RoomNameSchema,
});
export type RenameRoomBody = z.infer<typeof RenameRoomBody>;

/** Most rooms one GET /api/rooms page holds, and how many when `limit` is not given. */
export const MAX_ROOM_PAGE = 100;
export const DEFAULT_ROOM_PAGE = 50;

/** POST /api/rooms/:roomId/read: everything in the room up to `seq` is read. */
export const ReadBody = z.strictObject({
  seq: ReadSeqSchema,
});
export type ReadBody = z.infer<typeof ReadBody>;

/** A non-negative integer written in decimal, as a query string carries it. */
const QueryInt = z
  .string()
  .regex(/^\d{1,9}$/, 'a non-negative integer')
  .transform(Number);

export const RoomPathParams = z.object({
  roomId: RoomIdSchema,
});

/** DELETE /api/rooms/:roomId/members/:userId. */
export const MemberPathParams = z.object({
  roomId: RoomIdSchema,
  userId: UserIdSchema,
});

/**
 * GET /api/rooms?cursor=&limit=: `cursor` is a previous answer's `nextCursor`, opaque to
 * clients (gateway/http/room-cursor.ts); `limit` 1..100, default 50.
 */
export const RoomsQuery = z.object({
  cursor: z.string().min(1).max(400).optional(),
  limit: QueryInt.default(DEFAULT_ROOM_PAGE).pipe(z.number().int().min(1).max(MAX_ROOM_PAGE)),
});
export type RoomsQuery = z.infer<typeof RoomsQuery>;

/** What a message page query may ask for; the stores check it too (ChatStore.listMessages). */
export const MessageQueryBounds = z.object({
  afterSeq: z.number().int().min(0).optional(),
  beforeSeq: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(MAX_MESSAGE_PAGE),
});

/** GET /api/rooms/:roomId/messages?afterSeq=&beforeSeq=&limit= (limit defaults to 50). */
export const MessagesQuery = z
  .object({
    afterSeq: QueryInt.optional(),
    beforeSeq: QueryInt.optional(),
    limit: QueryInt.default(DEFAULT_MESSAGE_PAGE),
  })
  .pipe(MessageQueryBounds);
export type MessagesQuery = z.infer<typeof MessagesQuery>;

/** POST /api/admin/announcements. */
export const AnnouncementBody = z.strictObject({ text: z.string().trim().min(1).max(2_000) });
export type AnnouncementBody = z.infer<typeof AnnouncementBody>;
