import type { Message } from './protocol.js';

/**
 * The messages of rooms as a person reads them (api.md v1.1): edits and deletes are events
 * in a room's sequence (`edits` names the original), so the current text of a message is
 * what the last event for it says. A timeline takes messages in any mix — once each in seq
 * order from a connection's `message` event, and pages of history — and keeps one entry per
 * original, with its current text, `editedAt` (the last edit's ts) and `deleted`. Events are
 * not entries of their own.
 *
 * Guarantees:
 * - applying the same message twice, or an older event after a newer one, changes nothing
 *   (each original remembers the highest seq that changed it; a delete is final);
 * - an event whose original is not held yet (history loaded from the newest page back) is
 *   remembered and applied when the original arrives, so paging back never shows a stale text.
 */
export interface MessageTimeline {
  /** Takes a message or an event; returns the original it added or changed, or undefined when nothing changed. */
  apply(message: Message): Message | undefined;
  /** The current originals of a room, in seq order. */
  messages(roomId: string): Message[];
  /** One original by id, as it stands. */
  get(messageId: string): Message | undefined;
  /** Forgets a room. */
  clear(roomId: string): void;
}

interface Entry {
  message: Message;
  /** The highest seq whose content this entry reflects (the original's own, or the last event applied). */
  changedAt: number;
}

const changed = (original: Message, event: Message): Message =>
  event.deleted === true ? { ...original, text: '', deleted: true } : { ...original, text: event.text, editedAt: event.ts };

export function createMessageTimeline(): MessageTimeline {
  const rooms = new Map<string, Map<string, Entry>>();
  /** Events whose original is not held yet: original id → the latest such event. */
  const early = new Map<string, Message>();
  const roomOf = (roomId: string): Map<string, Entry> => {
    let room = rooms.get(roomId);
    if (room === undefined) rooms.set(roomId, (room = new Map()));
    return room;
  };

  return {
    apply(message) {
      const room = roomOf(message.roomId);
      if (message.edits === undefined) {
        if (room.has(message.id)) return undefined;
        const entry: Entry = { message, changedAt: message.seq };
        const pending = early.get(message.id);
        early.delete(message.id);
        // An original read back already says what happened to it up to when it was read;
        // a later event seen before it still applies.
        if (pending !== undefined && message.deleted !== true) entry.message = changed(message, pending);
        room.set(message.id, entry);
        return entry.message;
      }
      const entry = room.get(message.edits);
      if (entry === undefined) {
        const known = early.get(message.edits);
        if (known === undefined || known.deleted !== true) {
          if (known === undefined || message.seq > known.seq || message.deleted === true) early.set(message.edits, message);
        }
        return undefined;
      }
      if (entry.message.deleted === true || (message.seq <= entry.changedAt && message.deleted !== true)) return undefined;
      entry.message = changed(entry.message, message);
      entry.changedAt = Math.max(entry.changedAt, message.seq);
      return entry.message;
    },
    messages: (roomId) => [...(rooms.get(roomId)?.values() ?? [])].map((e) => e.message).sort((a, b) => a.seq - b.seq),
    get(messageId) {
      for (const room of rooms.values()) {
        const entry = room.get(messageId);
        if (entry !== undefined) return entry.message;
      }
      return undefined;
    },
    clear(roomId) {
      const room = rooms.get(roomId);
      rooms.delete(roomId);
      for (const id of room?.keys() ?? []) early.delete(id);
    },
  };
}
