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

/** Most messages one GET /api/rooms/:roomId/messages answers (and the stores return). */
export const MAX_MESSAGE_PAGE = 200;
export const DEFAULT_MESSAGE_PAGE = 50;
/** Most members a new room may be created with, besides its creator. */
export const MAX_INITIAL_MEMBERS = 100;

export const CreateRoomBody = z.strictObject({
  name: z.string().trim().min(1).max(100).regex(STORABLE_TEXT, storable),
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
