import type { NewMessage } from '../../ports/chat-store';

/**
 * The message append as one SQL text with positional parameters, so that it can run on the
 * pg pool itself (`pool.query`) as well as through Prisma (`$queryRawUnsafe`, for PGlite):
 * see prisma-append-messages.ts for what it does, and prisma-chat-store.ts for why the
 * pool. Prepared once per connection, by the marker (prepared-statements.ts): parsing and
 * planning it were half of PostgreSQL's CPU at 200 msg/s.
 */
export const APPEND_MESSAGES_SQL = `/* prepared: append_messages */
  WITH input AS (
    SELECT t.id, t.room_id, t.sender_id, t.client_msg_id, t.text, t.edits, t.deleted, t.ord::int AS ord
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
      WITH ORDINALITY AS t(id, room_id, sender_id, client_msg_id, text, edits, deleted, ord)
  ), existing AS (
    SELECT i.ord, m.id, m.room_id, m.seq, m.sender_id, m.client_msg_id, m.text, m.created_at, m.edits, m.deleted, m.edited_at
    FROM input i JOIN messages m ON m.sender_id = i.sender_id AND m.client_msg_id = i.client_msg_id
  ), targets AS MATERIALIZED (
    SELECT m.id, m.room_id, m.sender_id, m.edits, m.deleted FROM messages m
    WHERE m.id IN (SELECT i.edits FROM input i WHERE i.edits IS NOT NULL AND NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = i.ord))
    ORDER BY m.id FOR UPDATE
  ), fresh AS (
    SELECT i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = i.ord)
      AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.room_id = i.room_id AND ms.user_id = i.sender_id)
      AND (i.edits IS NULL OR EXISTS (
        SELECT 1 FROM targets t
        WHERE t.id = i.edits AND t.room_id = i.room_id AND t.sender_id = i.sender_id AND t.edits IS NULL AND NOT t.deleted))
  ), locked AS MATERIALIZED (
    SELECT r.id FROM rooms r WHERE r.id IN (SELECT room_id FROM fresh) ORDER BY r.id FOR UPDATE
  ), bumped AS (
    UPDATE rooms r SET last_seq = r.last_seq + c.n
    FROM (SELECT room_id, count(*)::int AS n FROM fresh GROUP BY room_id) c
    WHERE r.id = c.room_id AND r.id IN (SELECT id FROM locked)
    RETURNING r.id AS room_id, r.last_seq, c.n
  ), inserted AS (
    INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, text, edits, deleted)
    SELECT f.id, f.room_id, b.last_seq - b.n + row_number() OVER (PARTITION BY f.room_id ORDER BY f.ord), f.sender_id, f.client_msg_id,
      f.text, f.edits, f.deleted
    FROM fresh f JOIN bumped b ON b.room_id = f.room_id
    RETURNING id, room_id, seq, sender_id, client_msg_id, text, created_at, edits, deleted, edited_at
  ), marked AS (
    UPDATE messages o
    SET text = ins.text, deleted = ins.deleted, edited_at = CASE WHEN ins.deleted THEN o.edited_at ELSE ins.created_at END
    FROM inserted ins WHERE ins.edits = o.id
    RETURNING o.id
  ), redacted AS (
    UPDATE messages e SET text = ''
    FROM inserted ins WHERE ins.deleted AND e.edits = ins.edits AND e.id <> ins.id
    RETURNING e.id
  ), written AS (
    SELECT f.ord, ins.id, ins.room_id, ins.seq, ins.sender_id, ins.client_msg_id, ins.text, ins.created_at, ins.edits, ins.deleted,
      ins.edited_at, true AS created
    FROM inserted ins JOIN fresh f ON f.id = ins.id
    UNION ALL
    SELECT e.ord, e.id, e.room_id, e.seq, e.sender_id, e.client_msg_id, e.text, e.created_at, e.edits, e.deleted, e.edited_at,
      false AS created
    FROM existing e
  )
  SELECT i.ord, w.id, w.room_id, w.seq, w.sender_id, w.client_msg_id, w.text, w.created_at, w.edits, w.deleted, w.edited_at, w.created,
    EXISTS (SELECT 1 FROM rooms r WHERE r.id = i.room_id) AS room_exists,
    (SELECT array_agg(ms.user_id ORDER BY ms.user_id) FROM memberships ms WHERE ms.room_id = COALESCE(w.room_id, i.room_id)) AS members,
    t.room_id AS target_room_id, t.sender_id AS target_sender_id, t.edits AS target_edits, t.deleted AS target_deleted
  FROM input i LEFT JOIN written w ON w.ord = i.ord LEFT JOIN targets t ON t.id = i.edits
  ORDER BY i.ord`;

/** A row of appendMessages' statement: one per entry, the message's columns null when nothing was written. */
export interface AppendRow {
  ord: number;
  id: string | null;
  room_id: string | null;
  seq: number | null;
  sender_id: string | null;
  client_msg_id: string | null;
  text: string | null;
  /** A Date from pg; text from drivers that do not parse timestamptz in raw queries. */
  created_at: Date | string | null;
  created: boolean | null;
  edits: string | null;
  deleted: boolean | null;
  edited_at: Date | string | null;
  room_exists: boolean;
  /** The message an edit/delete entry names, as locked by the statement (null when none). */
  target_room_id: string | null;
  target_sender_id: string | null;
  target_edits: string | null;
  target_deleted: boolean | null;
  /** Sorted member ids; null for a room with none (or none at all). */
  members: string[] | null;
}

/** Runs APPEND_MESSAGES_SQL with `values` (appendValues) and resolves to its rows, in order; rejects with the driver's error. */
export type AppendRowsQuery = (values: readonly unknown[]) => Promise<AppendRow[]>;

const isDelete = (m: NewMessage): boolean => m.edits !== undefined && m.deleted === true;

/** The statement's seven parameters for `list`: one array per column, entry i of each for entry i of the list. */
export function appendValues(list: readonly NewMessage[]): unknown[] {
  return [
    list.map((m) => m.id),
    list.map((m) => m.roomId),
    list.map((m) => m.senderId),
    list.map((m) => m.clientMsgId),
    list.map((m) => (isDelete(m) ? '' : m.text)),
    list.map((m) => m.edits ?? null),
    list.map((m) => isDelete(m)),
  ];
}
