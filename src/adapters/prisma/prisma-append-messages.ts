import { ChatError, UnavailableError } from '../../domain/errors';
import type { AppendOutcome, ChatStore, NewMessage } from '../../ports/chat-store';
import type { Message } from '../../protocol/message';
import { changeRefusal } from '../../domain/message-change';
import { toStoreError } from './prisma-errors';
import { changeFields } from './prisma-rows';
import { appendValues, type AppendRowsQuery, type AppendRow } from './append-statement';

/**
 * ChatStore.appendMessages on PostgreSQL: the batched append (one statement per list)
 * with its fallback to single writes for a list the database refuses. Sequence numbers
 * are strictly +1 per room across instances (the room row's lock), and an entry repeated
 * in a list, or already stored, is reported with created false and its stored id.
 */
export function createPrismaAppendMessages({
  query,
}: {
  /** Runs APPEND_MESSAGES_SQL: straight on the pg pool for a PostgreSQL server, through Prisma for PGlite (prisma-chat-store.ts). */
  query: AppendRowsQuery;
}): ChatStore['appendMessages'] {
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
      rows = await query(appendValues(list));
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
