import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { handleSession } from '../../src/owner/session-handler';
import { handleSessionExpire } from '../../src/owner/session-expiry';
import type { OutboundRecord } from '../../src/ports/bus';
import type { SessionMirror } from '../../src/ports/session-mirror';
import { makeRecord, type RecordOf } from '../../src/protocol/envelope';
import type { ServerFrame } from '../../src/protocol/frames';
import { ownerContextFor } from '../support/owner-context';

/**
 * Presence at the user's owner, on a fake clock: the snapshot after `ready`, and `offline`
 * from the expiry of the last session (owner/presence-snapshot.ts, owner/session-expiry.ts).
 */
const T0 = 1_900_000_000_000;
const TTL = 60_000; // ownerContextFor's

async function setup({ snapshotCap = 1_000, directoryDown = false } = {}) {
  let clock = T0;
  const now = () => clock;
  const memory = createMemorySessionMirror({ ttlMs: TTL, now });
  const mirror: SessionMirror = directoryDown
    ? { ...memory, lookup: () => Promise.reject(new Error('session directory incomplete')) }
    : memory;
  const published: OutboundRecord[] = [];
  const base = ownerContextFor({ mirror, now: T0 });
  const ctx = {
    ...base,
    now,
    limits: { ...base.limits, presenceSnapshotMaxUsers: snapshotCap },
    publish: (out: readonly OutboundRecord[] | Promise<readonly OutboundRecord[]>) => {
      // In hand-over order, as the owner service does.
      chain = chain.then(() => out).then((o) => void published.push(...o));
    },
  };
  let chain: Promise<void> = Promise.resolve();
  ctx.users.own([0]);
  for (const userId of ['alice', 'bob', 'carol', 'dave']) await ctx.store.createUser({ userId, displayName: userId, passwordHash: 'x' });
  await ctx.store.createRoom({ roomId: 'r1', name: 'r1', createdBy: 'alice', members: ['alice', 'bob', 'carol'] });
  await ctx.store.createRoom({ roomId: 'r2', name: 'r2', createdBy: 'dave', members: ['dave'] });
  const request = <R extends RecordOf<'session.opened'> | RecordOf<'session.expire'>>(record: R) => ({
    topic: 'chat',
    partition: 0,
    offset: '0',
    key: record.userId,
    record,
    headers: {},
  });
  const open = async (userId: string, connectionId: string, instanceId: string, reannounce = false) => {
    const record = makeRecord('session.opened', userId, { instanceId, connectionId, ...(reannounce ? { reannounce } : {}) }, now);
    await handleSession(ctx, request(record), record);
    await chain;
  };
  const expire = async (userId: string) => {
    const record = makeRecord('session.expire', userId, {}, now);
    await handleSessionExpire(ctx, request(record), record);
    await chain;
  };
  const frames = (topic?: string): ServerFrame[] =>
    published.flatMap((r) => ((topic === undefined || r.topic === topic) && r.record.type === 'relay' ? [r.record.payload.frame] : []));
  return { ctx, open, expire, frames, published, at: (t: number) => (clock = t) };
}

describe('presence snapshot after ready', () => {
  it('follows ready on the same socket and lists the co-members with who is online', async () => {
    const { open, frames } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    expect(frames('inbox.gw-1').map((f) => f.type)).toEqual(['ready', 'presence.snapshot']);
    expect(frames('inbox.gw-1')[1]).toEqual({
      type: 'presence.snapshot',
      users: [
        { userId: 'bob', online: true },
        { userId: 'carol', online: false },
      ],
    });
    // bob heard alice come online; dave shares no room and hears nothing.
    expect(frames('inbox.gw-2')).toContainEqual({ type: 'presence', userId: 'alice', online: true });
  });

  it('a user alone in its rooms gets an empty snapshot; a re-announce gets none', async () => {
    const { open, frames, published } = await setup();
    await open('dave', 'd1', 'gw-1');
    expect(frames()).toEqual([expect.objectContaining({ type: 'ready' }), { type: 'presence.snapshot', users: [] }]);
    published.length = 0;
    await open('dave', 'd1', 'gw-1', true);
    expect(frames()).toEqual([]);
  });

  it('lists at most the cap, the first by userId', async () => {
    const { open, frames } = await setup({ snapshotCap: 1 });
    await open('alice', 'a1', 'gw-1');
    expect(frames()[1]).toEqual({ type: 'presence.snapshot', users: [{ userId: 'bob', online: false }] });
  });

  it('is left out, with a metric, when the session directory cannot answer; ready still goes', async () => {
    const { ctx, open, frames } = await setup({ directoryDown: true });
    await open('alice', 'a1', 'gw-1');
    expect(frames('inbox.gw-1').map((f) => f.type)).toEqual(['ready']);
    const metric = await ctx.metrics.presenceSnapshots.get();
    expect(metric.values).toContainEqual(expect.objectContaining({ labels: { outcome: 'directory_unavailable' }, value: 1 }));
  });

  it('a co-member whose session is older than the TTL is listed offline', async () => {
    const { open, frames, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    at(T0 + TTL + 1);
    await open('alice', 'a1', 'gw-1');
    expect(frames('inbox.gw-1')[1]).toEqual({
      type: 'presence.snapshot',
      users: [
        { userId: 'bob', online: false },
        { userId: 'carol', online: false },
      ],
    });
  });
});

describe('offline from session expiry', () => {
  it('announces offline to the co-members when the last session expires, with no other event of the user', async () => {
    const { ctx, open, expire, frames, published, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    at(T0 + 10_000);
    await open('bob', 'b1', 'gw-2', true); // bob's instance keeps re-announcing; alice's died
    published.length = 0;
    at(T0 + TTL + 1);
    await expire('alice');
    expect(frames()).toEqual([{ type: 'presence', userId: 'alice', online: false }]);
    expect(published.map((r) => r.topic)).toEqual(['inbox.gw-2']);
    expect(ctx.users.get(0, 'alice')!.sessions.size).toBe(0);
    // Handled again (a redelivery): nothing more.
    published.length = 0;
    await expire('alice');
    expect(frames()).toEqual([]);
  });

  it('a session re-announced after the request keeps the user online', async () => {
    const { ctx, open, expire, frames, published, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    at(T0 + TTL + 1);
    await open('alice', 'a1', 'gw-1', true);
    published.length = 0;
    await expire('alice');
    expect(frames()).toEqual([]);
    expect([...ctx.users.get(0, 'alice')!.sessions.keys()]).toEqual(['a1']);
  });

  it('a re-announce handled late (again after a rebalance) keeps the session only as long as its own time says', async () => {
    const { ctx, open, expire, frames, published, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    // gw-1 re-announced a1 at T0 + 5 s and then died; the record is handled at T0 + 40 s.
    const late = makeRecord('session.opened', 'alice', { instanceId: 'gw-1', connectionId: 'a1', reannounce: true }, () => T0 + 5_000);
    at(T0 + 40_000);
    await open('bob', 'b1', 'gw-2', true);
    await handleSession(ctx, { topic: 'chat', partition: 0, offset: '1', key: 'alice', record: late, headers: {} }, late);
    expect(ctx.users.get(0, 'alice')!.sessions.get('a1')!.seenAt).toBe(T0 + 5_000);
    published.length = 0;
    at(T0 + 5_000 + TTL + 1);
    await expire('alice');
    expect(frames()).toEqual([{ type: 'presence', userId: 'alice', online: false }]);
  });

  it('a late close of an expired last session still announces offline', async () => {
    const { ctx, open, frames, published, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    at(T0 + 10_000);
    await open('bob', 'b1', 'gw-2', true);
    published.length = 0;
    at(T0 + TTL + 1);
    const closed = makeRecord('session.closed', 'alice', { instanceId: 'gw-1', connectionId: 'a1' }, () => T0 + TTL + 1);
    await handleSession(ctx, { topic: 'chat', partition: 0, offset: '2', key: 'alice', record: closed, headers: {} }, closed);
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames()).toEqual([{ type: 'presence', userId: 'alice', online: false }]);
  });

  it('a store failure leaves the sessions as they were, so the retried record still announces', async () => {
    const { ctx, open, expire, frames, published, at } = await setup();
    await open('bob', 'b1', 'gw-2');
    await open('alice', 'a1', 'gw-1');
    at(T0 + 10_000);
    await open('bob', 'b1', 'gw-2', true);
    published.length = 0;
    at(T0 + TTL + 1);
    const coMembers = ctx.store.coMembers;
    ctx.store.coMembers = () => Promise.reject(new Error('database down'));
    await expect(expire('alice')).rejects.toThrow('database down');
    expect(ctx.users.get(0, 'alice')!.sessions.size).toBe(1);
    ctx.store.coMembers = coMembers;
    await expire('alice');
    expect(frames()).toEqual([{ type: 'presence', userId: 'alice', online: false }]);
  });
});
