import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { UnavailableError } from '../../src/domain/errors';
import { coalesceRelays, fanOut } from '../../src/owner/fan-out';
import { relay } from '../../src/owner/owner-context';
import { createSessionDirectory } from '../../src/owner/session-directory';
import { makeRecord } from '../../src/protocol/envelope';
import type { ServerFrame } from '../../src/protocol/frames';
import type { OutboundRecord } from '../../src/ports/bus';
import type { MirroredSession, SessionMirror } from '../../src/ports/session-mirror';
import { ownerContextFor } from '../support/owner-context';

const T0 = 1_900_000_000_000;
const TTL = 60_000;
const typing: ServerFrame = { type: 'typing', roomId: 'r1', userId: 'alice' };

const contextWith = (mirror: SessionMirror, now = T0) => ownerContextFor({ mirror, now });

const summary = (records: readonly OutboundRecord[]) =>
  records.map((r) => {
    switch (r.record.type) {
      case 'relay':
        return [r.topic, r.record.type, r.record.payload.connectionIds];
      case 'relay.batch':
        return [r.topic, r.record.type, r.record.payload.parts.map((p) => [p.frame.type, p.connectionIds])];
      case 'deliver':
        return [r.topic, r.key, r.record.type];
      default:
        return [r.topic, r.record.type];
    }
  });

describe('fanOut: a frame for other users, straight to the instances holding their sockets', () => {
  it('sends one relay per instance that holds a recipient socket, none for recipients offline', async () => {
    const mirror = createMemorySessionMirror({ ttlMs: TTL, now: () => T0 });
    const put = (u: string, c: string, i: string) => mirror.put(u, { connectionId: c, instanceId: i, seenAt: T0 }, 0);
    await put('bob', 'b1', 'gw-1');
    await put('bob', 'b2', 'gw-2');
    await put('carol', 'c1', 'gw-1');
    await put('dave', 'd1', 'gw-3');
    const ctx = contextWith(mirror);
    const out = await fanOut(ctx, typing, ['bob', 'carol', 'erin'], 'alice');
    expect(summary(out)).toEqual([
      ['inbox.gw-1', 'relay', ['b1', 'c1']],
      ['inbox.gw-2', 'relay', ['b2']],
    ]);
    expect(out.every((r) => r.key === 'alice' && r.record.userId === 'alice')).toBe(true);
    expect(await ctx.metrics.fanOuts.get()).toMatchObject({ values: [{ labels: { path: 'direct' }, value: 1 }] });
  });

  it('leaves out sessions older than the session TTL by the owner’s clock', async () => {
    const mirror = createMemorySessionMirror({ ttlMs: 10 * TTL, now: () => T0 });
    await mirror.put('bob', { connectionId: 'old', instanceId: 'gw-1', seenAt: T0 - TTL - 1 }, 0);
    await mirror.put('bob', { connectionId: 'new', instanceId: 'gw-2', seenAt: T0 - TTL }, 0);
    expect(summary(await fanOut(contextWith(mirror), typing, ['bob'], 'alice'))).toEqual([['inbox.gw-2', 'relay', ['new']]]);
  });

  it('goes through each recipient’s owner when the directory cannot answer', async () => {
    const inner = createMemorySessionMirror({ ttlMs: TTL });
    const mirror: SessionMirror = { ...inner, lookup: async () => Promise.reject(new UnavailableError('redis down')) };
    const ctx = contextWith(mirror);
    expect(summary(await fanOut(ctx, typing, ['bob', 'carol'], 'alice'))).toEqual([
      ['chat', 'bob', 'deliver'],
      ['chat', 'carol', 'deliver'],
    ]);
    expect(await ctx.metrics.fanOuts.get()).toMatchObject({ values: [{ labels: { path: 'via-owner' }, value: 1 }] });
  });

  it('asks nothing for no recipients', async () => {
    const inner = createMemorySessionMirror({ ttlMs: TTL });
    const lookup = jest.fn(inner.lookup);
    expect(await fanOut(contextWith({ ...inner, lookup }), typing, [], 'alice')).toEqual([]);
    expect(lookup).not.toHaveBeenCalled();
  });
});

describe('session directory: concurrent lookups share one read', () => {
  it('merges the lookups made while one is in flight, and answers each caller', async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const session = (u: string): MirroredSession => ({ connectionId: `${u}-c`, instanceId: 'gw', seenAt: T0 });
    const directory = createSessionDirectory({
      mirror: {
        lookup: async (userIds) => {
          calls.push([...userIds]);
          if (calls.length === 1) await gate;
          return new Map(userIds.map((u) => [u, [session(u)]]));
        },
      },
    });
    const first = directory.lookup(['a']);
    await new Promise((resolve) => setImmediate(resolve));
    const second = directory.lookup(['b', 'c']);
    const third = directory.lookup(['c', 'd']);
    release();
    expect((await first).get('a')).toEqual([session('a')]);
    const [two, three] = await Promise.all([second, third]);
    expect([two.get('b'), two.get('c'), three.get('d')]).toEqual([[session('b')], [session('c')], [session('d')]]);
    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects every caller of a failed read, and reads again for the next', async () => {
    let fail = true;
    const directory = createSessionDirectory({
      mirror: { lookup: async (userIds) => (fail ? Promise.reject(new UnavailableError('down')) : new Map(userIds.map((u) => [u, []]))) },
    });
    await expect(Promise.all([directory.lookup(['a']), directory.lookup(['b'])])).rejects.toBeInstanceOf(UnavailableError);
    fail = false;
    expect((await directory.lookup(['a'])).has('a')).toBe(true);
  });

  it('splits merged reads at maxUsers, never a caller’s own list', async () => {
    const calls: number[] = [];
    const directory = createSessionDirectory({
      maxUsers: 3,
      mirror: { lookup: async (userIds) => (calls.push(userIds.length), new Map()) },
    });
    await Promise.all([directory.lookup(['a', 'b']), directory.lookup(['c', 'd']), directory.lookup(['e', 'f', 'g', 'h'])]);
    expect(calls).toEqual([2, 2, 4]);
  });
});

describe('coalesceRelays: one record per instance', () => {
  const ctx = contextWith(createMemorySessionMirror({ ttlMs: TTL }));
  const ack: ServerFrame = { type: 'pong' };
  it('merges the relays to one inbox into a relay.batch in order, in place of the first; other records keep their order', () => {
    const deliver: OutboundRecord = { topic: 'chat', key: 'zed', record: makeRecord('deliver', 'zed', { frame: typing }) };
    const out = coalesceRelays([
      relay(ctx, 'alice', 'gw-1', ['a1'], ack),
      relay(ctx, 'alice', 'gw-2', ['b1'], typing),
      deliver,
      relay(ctx, 'alice', 'gw-1', ['c1', 'c2'], typing),
    ]);
    expect(summary(out)).toEqual([
      [
        'inbox.gw-1',
        'relay.batch',
        [
          ['pong', ['a1']],
          ['typing', ['c1', 'c2']],
        ],
      ],
      ['inbox.gw-2', 'relay', ['b1']],
      ['chat', 'zed', 'deliver'],
    ]);
  });

  it('keeps a batch within its schema bound of 100 parts', () => {
    const many = Array.from({ length: 150 }, (_, i) => relay(ctx, 'alice', 'gw-1', [`c${i}`], typing));
    const out = coalesceRelays(many);
    expect(out.map((r) => (r.record.type === 'relay.batch' ? r.record.payload.parts.length : 0))).toEqual([100, 50]);
  });
});
