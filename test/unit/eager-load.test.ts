import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { UnavailableError } from '../../src/domain/errors';
import { eagerLoad } from '../../src/owner/eager-load';
import { createOwnerService } from '../../src/owner/owner-service';
import type { MirroredSession, SessionMirror } from '../../src/ports/session-mirror';
import { ownerContextFor } from '../support/owner-context';

const T0 = 1_900_000_000_000;

/** A mirror whose loadPartition answers only when the test says so (or fails), counting calls. */
function heldMirror(
  inner: SessionMirror,
): SessionMirror & { release(): void; fail(error: Error): void; partitionLoads: number; userLoads: number } {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const gate = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  gate.catch(() => undefined);
  const mirror = {
    partitionLoads: 0,
    userLoads: 0,
    release: () => release(),
    fail: (error: Error) => fail(error),
    put: inner.put.bind(inner),
    remove: inner.remove.bind(inner),
    health: inner.health.bind(inner),
    lookup: inner.lookup.bind(inner),
    async load(userId: string) {
      mirror.userLoads++;
      return inner.load(userId);
    },
    async loadPartition(partition: number) {
      mirror.partitionLoads++;
      await gate;
      return inner.loadPartition(partition);
    },
  };
  return mirror;
}

const contextWith = (mirror: SessionMirror, eagerLoadTimeoutMs: number) => ownerContextFor({ mirror, now: T0, eagerLoadTimeoutMs });

const s = (connectionId: string, instanceId = 'gw-1'): MirroredSession => ({ connectionId, instanceId, seenAt: T0 });

async function seeded(): Promise<SessionMirror> {
  const mirror = createMemorySessionMirror({ ttlMs: 60_000, now: () => T0 });
  await mirror.put('alice', s('a1'), 1);
  await mirror.put('alice', s('a2', 'gw-2'), 1);
  await mirror.put('bob', s('b1'), 2);
  await mirror.put('carol', s('c1'), 3);
  return mirror;
}

describe('eager load on assignment', () => {
  it('loads every user the mirror lists under the assigned partitions, with their sessions', async () => {
    const ctx = contextWith(await seeded(), 5_000);
    ctx.users.own([1, 2]);
    const result = await eagerLoad(ctx, [1, 2]);
    expect(result).toMatchObject({ outcome: 'loaded', users: 2 });
    expect([...(ctx.users.get(1, 'alice')?.sessions.keys() ?? [])]).toEqual(['a1', 'a2']);
    expect(ctx.users.get(2, 'bob')?.sessions.get('b1')).toEqual({ connectionId: 'b1', instanceId: 'gw-1', seenAt: T0 });
    expect(ctx.users.get(3, 'carol')).toBeUndefined();
  });

  it('gives up after the timeout, and drops what arrives later (those users load lazily)', async () => {
    const mirror = heldMirror(await seeded());
    const ctx = contextWith(mirror, 50);
    ctx.users.own([1]);
    expect(await eagerLoad(ctx, [1])).toMatchObject({ outcome: 'timeout', users: 0 });
    mirror.release();
    await mirror.loadPartition(1); // the late answer has been delivered by now
    expect(ctx.users.get(1, 'alice')).toBeUndefined();
  });

  it('falls back to lazy loading when the mirror fails, without throwing', async () => {
    const mirror = heldMirror(await seeded());
    const ctx = contextWith(mirror, 5_000);
    ctx.users.own([1]);
    mirror.fail(new UnavailableError('redis down'));
    expect(await eagerLoad(ctx, [1])).toMatchObject({ outcome: 'failed', users: 0 });
  });

  it('does nothing when switched off (timeout 0)', async () => {
    const mirror = heldMirror(await seeded());
    const ctx = contextWith(mirror, 0);
    ctx.users.own([1]);
    expect(await eagerLoad(ctx, [1])).toEqual({ outcome: 'off', users: 0, ms: 0 });
    expect(mirror.partitionLoads).toBe(0);
  });

  it('is what the owner does on assignment: afterwards a user is served without a per-user load', async () => {
    const mirror = heldMirror(await seeded());
    mirror.release();
    const ctx = contextWith(mirror, 5_000);
    const { users: _users, logger: _logger, ...options } = ctx;
    const owner = createOwnerService({ ...options, logger: ctx.logger });
    await owner.listener.onAssigned([2]);
    expect(owner.users.get(2, 'bob')?.sessions.size).toBe(1);
    expect(mirror.partitionLoads).toBe(1);
    expect(mirror.userLoads).toBe(0);
  });
});
