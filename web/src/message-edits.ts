import { createMessageTimeline, type Message } from '../../client/src/index.js';
import { el, timeOf } from './dom';

/**
 * Edit and delete on the web page (api.md v1.1). The page keeps every message of a room by
 * seq — edit and delete events included, as the connection and history hand them over —
 * and shows the originals as they stand after applying all of them in seq order (the
 * client package's MessageTimeline), so it always shows the current text whatever order
 * pages and live frames came in. One's own messages get Edit and Delete buttons; Edit
 * turns the text into an inline form, Delete asks to be clicked again to confirm.
 */

/** The originals of a room as they stand, in seq order: events applied, not shown on their own. */
export function currentMessages(all: Iterable<Message>): Message[] {
  const timeline = createMessageTimeline();
  const list = [...all].sort((a, b) => a.seq - b.seq);
  for (const m of list) timeline.apply(m);
  const roomIds = new Set(list.map((m) => m.roomId));
  return [...roomIds].flatMap((roomId) => timeline.messages(roomId));
}

/** Whether a message is an edit or delete event rather than something someone said. */
export const isChangeEvent = (m: Message): boolean => m.edits !== undefined;

export interface MessageActions {
  edit(message: Message, text: string): Promise<unknown>;
  delete(message: Message): Promise<unknown>;
  /** A change was refused or failed: tell the person. */
  failed(error: unknown): void;
}

/** One message's list item: meta line, text (or "deleted"), and for one's own messages the edit and delete controls. */
export function messageItem(m: Message, me: string | undefined, actions: MessageActions): HTMLLIElement {
  const mine = m.senderId === me;
  const classes = [
    'msg',
    ...(mine ? ['mine'] : []),
    ...(m.deleted === true ? ['deleted'] : []),
    ...(m.editedAt !== undefined ? ['edited'] : []),
  ];
  const item = el('li', { className: classes.join(' '), dataset: { seq: String(m.seq), sender: m.senderId, messageId: m.id } });
  const edited = m.editedAt !== undefined && m.deleted !== true ? ' · edited' : '';
  item.append(
    el('span', { className: 'meta', text: `${m.senderId} · ${timeOf(m.ts)} · #${m.seq}${edited}` }),
    el('span', { className: 'text', text: m.deleted === true ? 'This message was deleted' : m.text }),
  );
  if (mine && m.deleted !== true) item.append(controls(item, m, actions));
  return item;
}

function controls(item: HTMLLIElement, m: Message, actions: MessageActions): HTMLElement {
  const bar = el('span', { className: 'msg-actions' });
  const edit = el('button', { type: 'button', className: 'msg-edit', text: 'Edit' });
  const remove = el('button', { type: 'button', className: 'msg-delete', text: 'Delete' });
  edit.addEventListener('click', () => openEditor(item, m, actions));
  remove.addEventListener('click', () => {
    if (remove.dataset['confirm'] !== 'yes') {
      // A second click confirms: a slip of the mouse should not delete.
      remove.dataset['confirm'] = 'yes';
      remove.textContent = 'Really delete?';
      return;
    }
    remove.disabled = true;
    actions.delete(m).catch((error: unknown) => {
      remove.disabled = false;
      actions.failed(error);
    });
  });
  bar.append(edit, remove);
  return bar;
}

function openEditor(item: HTMLLIElement, m: Message, actions: MessageActions): void {
  if (item.querySelector('form.msg-editor') !== null) return;
  const form = el('form', { className: 'msg-editor' });
  const input = el('input', { className: 'msg-edit-text', type: 'text' });
  input.value = m.text;
  input.maxLength = 4_000;
  const save = el('button', { type: 'submit', className: 'msg-save', text: 'Save' });
  const cancel = el('button', { type: 'button', className: 'msg-cancel', text: 'Cancel' });
  form.append(input, save, cancel);
  const text = item.querySelector<HTMLElement>('.text');
  if (text !== null) text.hidden = true;
  const close = (): void => {
    form.remove();
    if (text !== null) text.hidden = false;
  };
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = input.value.trim();
    if (next.length === 0 || next === m.text) return close();
    save.disabled = true;
    // The event comes back as a `message` and the list is drawn again from it.
    actions.edit(m, next).then(close, (error: unknown) => {
      save.disabled = false;
      actions.failed(error);
    });
  });
  item.append(form);
  input.focus();
}
