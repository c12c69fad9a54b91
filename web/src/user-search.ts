import { ChatError, type PublicUser } from './api';
import { clear, el } from './dom';

/** Wait this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 200;

export interface UserSearchOptions {
  /** GET /api/users?q= (the page's api.searchUsers). */
  search: (q: string) => Promise<readonly PublicUser[]>;
  /** The user picked: a result clicked, or Enter (the first result, else the text typed as a userId). */
  onPick: (userId: string) => void | Promise<void>;
  /** Prefix of the elements' ids: `<id>-input`, `<id>-results`. */
  id: string;
  placeholder?: string;
  /** Users not to offer (e.g. the room's members, oneself). */
  exclude?: () => readonly string[];
}

export interface UserSearch {
  /** The box: an input and its result list. Put it where it is needed. */
  readonly element: HTMLElement;
  /** Empties the input and the results. */
  reset(): void;
}

/**
 * A search box for people (GET /api/users): a prefix of a userId or display name,
 * matches listed as you type; picking one calls `onPick` with its userId. Used to add a
 * member to a room, and made to be reused wherever the page needs a person (starting a
 * DM). The server limits searches per user; a 429 shows as a note, not an error.
 */
export function createUserSearch({ search, onPick, id, placeholder = 'Find people', exclude = () => [] }: UserSearchOptions): UserSearch {
  const element = el('div', { className: 'user-search' });
  const input = el('input', { type: 'search' });
  input.id = `${id}-input`;
  input.placeholder = placeholder;
  input.autocomplete = 'off';
  input.maxLength = 64;
  input.setAttribute('aria-label', placeholder);
  const results = el('ul', { className: 'user-search-results' });
  results.id = `${id}-results`;
  results.hidden = true;
  element.append(input, results);

  let timer: number | undefined;
  /** Answers to older queries are dropped: only the latest typed text is shown. */
  let asked = 0;
  let shown: readonly PublicUser[] = [];

  const show = (users: readonly PublicUser[], note?: string): void => {
    shown = users;
    clear(results);
    for (const user of users) {
      const item = el('li');
      const label = user.displayName === user.userId ? user.userId : `${user.displayName} (${user.userId})`;
      const button = el('button', { type: 'button', text: label, dataset: { userId: user.userId } });
      button.addEventListener('click', () => void pick(user.userId));
      item.append(button);
      results.append(item);
    }
    if (note !== undefined) results.append(el('li', { className: 'note', text: note }));
    results.hidden = users.length === 0 && note === undefined;
  };

  const reset = (): void => {
    if (timer !== undefined) window.clearTimeout(timer);
    asked++;
    input.value = '';
    show([]);
  };

  const pick = async (userId: string): Promise<void> => {
    reset();
    await onPick(userId);
  };

  const ask = async (q: string): Promise<void> => {
    const mine = ++asked;
    try {
      const skip = new Set(exclude());
      const users = (await search(q)).filter((u) => !skip.has(u.userId));
      if (mine === asked) show(users, users.length === 0 ? 'nobody found' : undefined);
    } catch (error) {
      if (mine !== asked) return;
      show([], error instanceof ChatError && error.code === 'RATE_LIMITED' ? 'too many searches: wait a moment' : 'search failed');
    }
  };

  input.addEventListener('input', () => {
    if (timer !== undefined) window.clearTimeout(timer);
    const q = input.value.trim();
    if (q.length === 0) {
      asked++;
      show([]);
      return;
    }
    timer = window.setTimeout(() => void ask(q), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') reset();
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const typed = input.value.trim();
    const chosen = shown.find((u) => u.userId.toLowerCase() === typed.toLowerCase())?.userId ?? shown[0]?.userId ?? typed;
    if (chosen.length > 0) void pick(chosen);
  });

  return { element, reset };
}
