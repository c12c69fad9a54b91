/** Small DOM helpers for the pages. User text only ever goes in as textContent (no HTML). */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`page has no #${id}`);
  return found as T;
}

export function clear(node: HTMLElement): void {
  while (node.firstChild !== null) node.removeChild(node.firstChild);
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  {
    className,
    text,
    title,
    type,
    dataset,
  }: { className?: string; text?: string; title?: string; type?: string; dataset?: Record<string, string> } = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (title !== undefined) node.title = title;
  if (type !== undefined) node.setAttribute('type', type);
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = v;
  return node;
}

/** HH:MM of an ISO timestamp, in the browser's time zone. */
export function timeOf(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * A clientMsgId. crypto.randomUUID exists only in secure contexts (https, localhost);
 * a page opened over plain http on a LAN address still needs ids, from getRandomValues.
 */
export function newClientMsgId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
