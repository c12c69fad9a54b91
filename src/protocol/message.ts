import { z } from 'zod';
import { UserIdSchema } from './envelope-ids';
import { storableString } from './storable-text';

/**
 * A stored chat message as every client sees it (api.md `Message`). `seq` is the room's
 * sequence: strictly increasing by 1, the same order for every member. `id` is stable
 * across redeliveries, so clients drop duplicates by id. `ts` is ISO 8601 (UTC).
 */
export const MessageSchema = z.object({
  id: z.string().min(1).max(100),
  roomId: z.string().min(1).max(100),
  seq: z.number().int().positive(),
  senderId: UserIdSchema,
  text: z.string(),
  ts: z.string(),
  clientMsgId: z.string().min(1).max(100),
});
export type Message = z.infer<typeof MessageSchema>;

/** Longest message text, in characters. */
export const MAX_TEXT_LENGTH = 4_000;
export const ClientMsgIdSchema = storableString().min(1).max(100);
export const RoomIdSchema = storableString().min(1).max(100);

/**
 * A read cursor: every message of the room up to this seq is read (0: none). Bounded by
 * the database column (int4); a seq past the room's last one is refused (READ_PAST_END).
 */
export const ReadSeqSchema = z.number().int().min(0).max(2_147_483_647);
