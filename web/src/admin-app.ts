import type { ClusterView, InstanceView } from '../../src/protocol/instance-view';
import { ChatError, createApi } from './api';
import { createSessionStore, type Session } from './session';
import { byId, clear, el } from './dom';

/**
 * The cluster view page (`/admin`): polls GET /api/admin/cluster and draws which instance
 * owns which partition, each instance's consumer lag and connections. Instances on Redis
 * see each other (their views expire from Redis when they die); without Redis an
 * instance shows itself only.
 */

const POLL_MS = 2_000;
const sessions = createSessionStore({ key: 'keyed-chat.admin-session' });
let session: Session | undefined = sessions.load();
const api = createApi({ token: () => session?.token });
let timer: number | undefined;

/** A stable colour per instance, by its position in the list. */
const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#65a30d', '#db2777'];

function ageOf(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 2 ? 'now' : `${seconds} s ago`;
}

function lagOf(view: InstanceView, source: string): number {
  return view.lag.filter((l) => l.source === source).reduce((sum, l) => sum + l.lag, 0);
}

function render(view: ClusterView): void {
  const { instances } = view;
  const colour = new Map(instances.map((v, i) => [v.instanceId, PALETTE[i % PALETTE.length] ?? '#444']));
  const connections = instances.reduce((n, v) => n + v.connections.ws + v.connections.sse, 0);
  byId('summary').textContent =
    `${instances.length} instance${instances.length === 1 ? '' : 's'} · ${view.partitions} partitions · ${connections} connection${connections === 1 ? '' : 's'} · ` +
    `answered by ${view.instanceId}` +
    (view.directory === 'local' ? ' · no Redis: other instances are not visible here' : '');

  const owners = new Map<number, InstanceView>();
  for (const v of instances) for (const p of v.owner?.partitions ?? []) owners.set(p, v);
  const grid = byId('partitions');
  clear(grid);
  for (let p = 0; p < view.partitions; p++) {
    const owner = owners.get(p);
    const lag = owner === undefined ? 0 : owner.lag.filter((l) => l.source === 'owner' && l.partition === p).reduce((s, l) => s + l.lag, 0);
    const cell = el('div', {
      className: owner === undefined ? 'partition unowned' : 'partition',
      text: String(p),
      // Without Redis the other instances' views are not here: unknown, not unowned.
      title:
        owner !== undefined
          ? `partition ${p}: ${owner.instanceId}, lag ${lag}`
          : view.directory === 'local'
            ? `partition ${p}: owned by no instance visible here`
            : `partition ${p}: no owner`,
      dataset: { partition: String(p), owner: owner?.instanceId ?? '' },
    });
    if (owner !== undefined) cell.style.background = colour.get(owner.instanceId) ?? '#444';
    if (lag > 0) cell.append(el('span', { className: 'lag', text: String(lag) }));
    grid.append(cell);
  }

  const body = byId('instances');
  clear(body);
  for (const v of instances) {
    const row = el('tr', { dataset: { instanceId: v.instanceId } });
    const name = el('td');
    name.append(el('span', { className: 'swatch' }), el('strong', { text: v.instanceId }), el('div', { className: 'sub', text: v.url }));
    const swatch = name.firstElementChild;
    if (swatch instanceof HTMLElement) swatch.style.background = colour.get(v.instanceId) ?? '#444';
    row.append(
      name,
      el('td', { text: v.roles.join(', ') }),
      el('td', { text: v.bus }),
      el('td', { text: v.owner?.state ?? '—' }),
      el('td', { text: v.owner === null ? '—' : v.owner.partitions.join(' ') || 'none' }),
      el('td', { text: v.owner === null ? '—' : String(v.owner.users) }),
      el('td', { text: `${lagOf(v, 'owner')} / ${lagOf(v, 'inbox')}` }),
      el('td', { text: `${v.connections.ws} / ${v.connections.sse}` }),
      el('td', { text: ageOf(v.reportedAt) }),
    );
    body.append(row);
  }
}

async function poll(): Promise<void> {
  try {
    render(await api.cluster());
    byId('error').textContent = '';
  } catch (error) {
    if (error instanceof ChatError && error.status === 401) return signOut('your session ended; log in again');
    if (error instanceof ChatError && error.status === 403) {
      return signOut(`${session?.user.userId ?? 'this user'} is not an admin: list it in ADMIN_USER_IDS and restart`);
    }
    byId('error').textContent = error instanceof Error ? error.message : String(error);
  }
}

function show(s: Session): void {
  session = s;
  byId('auth').hidden = true;
  byId('cluster').hidden = false;
  byId('logout').hidden = false;
  byId('whoami').textContent = s.user.userId;
  void poll();
  timer = window.setInterval(() => void poll(), POLL_MS);
}

function signOut(reason = ''): void {
  window.clearInterval(timer);
  sessions.clear();
  session = undefined;
  byId('auth').hidden = false;
  byId('cluster').hidden = true;
  byId('logout').hidden = true;
  byId('whoami').textContent = '';
  byId('auth-error').textContent = reason;
}

byId<HTMLFormElement>('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = byId<HTMLInputElement>('auth-user').value.trim();
  const password = byId<HTMLInputElement>('auth-password').value;
  api.login(userId, password).then(
    (login) => show(sessions.save(login)),
    (error: unknown) => {
      byId('auth-error').textContent = error instanceof ChatError ? `${error.code}: ${error.message}` : String(error);
    },
  );
});

byId('logout').addEventListener('click', () => {
  void api
    .logout()
    .catch(() => undefined)
    .finally(() => signOut());
});

if (session !== undefined) show(session);
