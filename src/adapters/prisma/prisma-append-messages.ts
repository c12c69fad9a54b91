import type { PrismaClient } from '../../generated/prisma/client';
import { ChatError, UnavailableError } from '../../domain/errors';
import type { AppendOutcome, ChatStore, NewMessage } from '../../ports/chat-store';
import type { Message } from '../../protocol/message';
import { changeRefusal } from '../../domain/message-change';
import { toStoreError } from './prisma-errors';
import { changeFields } from './prisma-rows';

/** A row of appendMessages' statement: one per entry, the message's columns null when nothing was written. */
interface AppendRow {
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

/**
 * ChatStore.appendMessages on PostgreSQL: the batched append (one statement per list)
 * with its fallback to single writes for a list the database refuses. Sequence numbers
 * are strictly +1 per room across instances (the room row's lock), and an entry repeated
 * in a list, or already stored, is reported with created false and its stored id.
 */
export function createPrismaAppendMessages({ prisma }: { prisma: PrismaClient }): ChatStore['appendMessages'] {
  /**
   * One statement for the whole list, so one round trip however many messages: find what
   * is stored already for each (sender, clientMsgId); lock the messages that edit and
   * delete events name (`targets`, in id order, before any room: every statement takes
   * message locks before room locks, so none deadlock) — under READ COMMITTED a locked
   * row is read in its latest committed version, so two changes of one message from two
   * statements see each other; of the rest, keep the entries whose sender is a member and
   * whose target passes the rule (domain/message-change.ts); lock their rooms in id order
   * (two instances appending to the same rooms never deadlock), bump each room's last_seq
   * by its count — under READ COMMITTED the UPDATE works on the row version it waited for,
   * so seq stays strictly +1 across instances — and insert them numbered in list order;
   * then mark the originals (`marked`: current text and edited_at, or deleted with its
   * text gone) and empty the text of a deleted message's earlier edit events
   * (`redacted`). The members come from the same snapshot as the membership check.
   * The caller never puts two events naming one message, or an event and the message it
   * names, in one list (`changeSafeParts`): a statement cannot update a row twice, nor see
   * the rows it inserts.
   */
  const appendStatement = async (list: readonly NewMessage[]): Promise<AppendOutcome[]> => {
    let rows: AppendRow[];
    try {
      // Prepared once per connection: parsing and planning this statement were half of
      // PostgreSQL's CPU at 200 msg/s (prepared-statements.ts).
      rows = await prisma.$queryRaw<AppendRow[]>`/* prepared: append_messages */
        WITH input AS (
          SELECT t.id, t.room_id, t.sender_id, t.client_msg_id, t.text, t.edits, t.deleted, t.ord::int AS ord
          FROM unnest(${list.map((m) => m.id)}::text[], ${list.map((m) => m.roomId)}::text[], ${list.map((m) => m.senderId)}::text[],
                      ${list.map((m) => m.clientMsgId)}::text[], ${list.map((m) => (isDelete(m) ? '' : m.text))}::text[],
                      ${list.map((m) => m.edits ?? null)}::text[], ${list.map((m) => isDelete(m))}::boolean[])
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
    } catch (error) {
      throw toStoreError(error, 'append messages');
    }
    return list.map((m, i): AppendOutcome => {
      const row = rows[i];
      if (row === undefined) throw new ChatError('INTERNAL', `append messages: no row for entry ${i}`);
      const members = row.members ?? [];
      if (
        row.id !== null &&
        row.room_id !== null &&
        row.seq !== null &&
        row.sender_id !== null &&
        row.client_msg_id !== null &&
        row.text !== null &&
        row.created_at !== null
      ) {
        const message: Message = {
          id: row.id,
          roomId: row.room_id,
          seq: row.seq,
          senderId: row.sender_id,
          text: row.text,
          ts: new Date(row.created_at).toISOString(),
          clientMsgId: row.client_msg_id,
          ...changeFields({ edits: row.edits, deleted: row.deleted, editedAt: row.edited_at }),
        };
        return { ok: true, message, created: row.created === true, members };
      }
      if (!row.room_exists) return { ok: false, error: new ChatError('ROOM_NOT_FOUND', `room ${m.roomId} does not exist`) };
      if (!members.includes(m.senderId))
        return { ok: false, error: new ChatError('NOT_A_MEMBER', `${m.senderId} is not a member of room ${m.roomId}`) };
      if (m.edits !== undefined) {
        const target =
          row.target_room_id === null || row.target_sender_id === null
            ? undefined
            : { roomId: row.target_room_id, senderId: row.target_sender_id, edits: row.target_edits, deleted: row.target_deleted };
        const refusal = changeRefusal(target, { roomId: m.roomId, senderId: m.senderId, messageId: m.edits });
        if (refusal !== undefined) return { ok: false, error: refusal };
      }
      // A member in the snapshot, yet nothing written: the room changed under the statement.
      return { ok: false, error: new UnavailableError('append messages: the room changed during the append; retry') };
    });
  };

  /**
   * The statement, with one refinement: a non-retriable failure of a list (a text the
   * database refuses) fails only its culprit, found by writing the entries one by one.
   * Those single writes are separate statements, so a retriable failure among them may
   * leave earlier ones written; a retry of the list finds them (created false, same ids).
   */
  const appendUnique = async (list: readonly NewMessage[]): Promise<AppendOutcome[]> => {
    if (list.length === 0) return [];
    let outcomes: AppendOutcome[];
    try {
      outcomes = await appendStatement(list);
    } catch (error) {
      const err = toStoreError(error, 'append messages');
      if (err.retriable) throw err;
      if (list.length === 1) return [{ ok: false, error: err }];
      const singles: AppendOutcome[] = [];
      for (const m of list) singles.push(...(await appendUnique([m])));
      return singles;
    }
    // An entry the room changed under: the whole list is tried again, as for any retriable failure.
    const retry = outcomes.find((o): o is { ok: false; error: ChatError } => !o.ok && o.error.retriable);
    if (retry !== undefined) throw retry.error;
    return outcomes;
  };

  return async (list) => {
    // A pair twice in one list: the first occurrence is written, the others report it.
    const firstOf = new Map<string, number>();
    const unique: NewMessage[] = [];
    const slot = list.map((m) => {
      const key = `${m.senderId}\u0000${m.clientMsgId}`;
      let k = firstOf.get(key);
      if (k === undefined) {
        k = unique.push(m) - 1;
        firstOf.set(key, k);
      }
      return k;
    });
    const outcomes: AppendOutcome[] = [];
    for (const part of changeSafeParts(unique)) outcomes.push(...(await appendUnique(part)));
    const reported = new Set<number>();
    return slot.map((k): AppendOutcome => {
      const outcome = outcomes[k]!;
      const first = !reported.has(k);
      reported.add(k);
      return outcome.ok && !first ? { ...outcome, created: false } : outcome;
    });
  };
}

const isDelete = (m: NewMessage): boolean => m.edits !== undefined && m.deleted === true;

/**
 * The list cut, in order, into parts that one statement can write as if entry by entry: a
 * new part starts at an event that names a message appended earlier in the current part,
 * or one another event of the part names already (the statement sees neither the rows it
 * inserts nor its own updates). Nearly always one part: a burst of sends with no edits.
 */
function changeSafeParts(list: readonly NewMessage[]): NewMessage[][] {
  const parts: NewMessage[][] = [];
  let part: NewMessage[] = [];
  let seen = new Set<string>();
  for (const m of list) {
    if (m.edits !== undefined && seen.has(m.edits)) {
      parts.push(part);
      part = [];
      seen = new Set();
    }
    part.push(m);
    seen.add(m.id);
    if (m.edits !== undefined) seen.add(m.edits);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}
