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
  /**
   * On an edit or delete event (api.md v1.1): the id of the message it changes, always an
   * original (never another event). Its `text` is the new text ('' for a delete).
   */
  edits: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('On an edit or delete event (v1.1): the id of the original message it changes; `text` is the new text'),
  /**
   * On a delete event: the message named by `edits` is deleted. On an original read back
   * (history, resume, gap-fill): it has been deleted, and its text is ''.
   */
  deleted: z
    .literal(true)
    .optional()
    .describe('On a delete event: the message named by `edits` is deleted. On an original read back: it is deleted (text "")'),
  /** On an original read back that was edited: when its last edit was stored (its text is the current one). */
  editedAt: z
    .string()
    .optional()
    .describe('On an original read back that was edited: when its last edit was stored (text is the current one)'),
});
export type Message = z.infer<typeof MessageSchema>;

/** Longest message text, in characters. */
export const MAX_TEXT_LENGTH = 4_000;
export const ClientMsgIdSchema = storableString().min(1).max(100);
export const RoomIdSchema = storableString().min(1).max(100);
/** A message id as a client names it in an `edit` or `delete` frame. */
export const MessageIdSchema = storableString().min(1).max(100);

/**
 * A read cursor: every message of the room up to this seq is read (0: none). Bounded by
 * the database column (int4); a seq past the room's last one is refused (READ_PAST_END).
 */
export const ReadSeqSchema = z.number().int().min(0).max(2_147_483_647);
