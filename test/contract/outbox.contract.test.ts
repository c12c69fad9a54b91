import { UnavailableError } from '../../src/domain/errors';
import { ServerFrameSchema, type ServerFrame } from '../../src/protocol/frames';
import type { ChatStore } from '../../src/ports/chat-store';
import type { OutboxEntry } from '../../src/ports/outbox';
import { randomName } from '../support/infra';
import { storeAdapters, type StoreHarness } from './store-harness';

/**
 * The Outbox contract (src/ports/outbox.ts) and the outbox half of the ChatStore contract:
 * room changes write their rows in the change’s transaction; `relay` claims in the order written,
 * deletes only after publish resolved, and never hands one row to two claimers at once.
 * Every adapter runs all of it — in memory, Prisma on a real PostgreSQL database of its own
 * (the relay takes every pending row, so the shared chat_test would mix in other suites'
 * rooms) with a second store as "another instance", and Prisma on the embedded PGlite.
 */
const adapters = storeAdapters({ database: 'scratch' });

jest.setTimeout(60_000);

/** The `room` frame a deliver row carries (it must parse as a server frame). */
function roomFrameOf(entry: OutboxEntry): Extract<ServerFrame, { type: 'room' }> {
  const payload = entry.payload as { frame?: unknown };
  const frame = ServerFrameSchema.parse(payload.frame);
  if (frame.type !== 'room') throw new Error(`expected a room frame, got ${frame.type}`);
  return frame;
}

describe.each(adapters)('Outbox contract: %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: ChatStore;

  beforeAll(async () => {
    h = await makeHarness();
    store = h.store;
  });
  afterAll(async () => {
    await h?.close();
  });
  /** Every test starts from an empty outbox (whatever earlier tests left is taken here). */
  beforeEach(async () => {
    while ((await store.outbox.relay(1000, async () => {})) > 0);
  });

  const newUser = async (): Promise<string> => {
    const userId = randomName('u');
    await store.createUser({ userId, displayName: userId, passwordHash: 'hash' });
    return userId;
  };
  /** Everything pending, taken (and so deleted) in one pass. */
  const takeAll = async (): Promise<OutboxEntry[]> => {
    const taken: OutboxEntry[] = [];
    await store.outbox.relay(1000, async (entries) => {
      taken.push(...entries);
    });
    return taken;
  };

  it('writes one deliver row per member with one created frame when a room is created', async () => {
    const [a, b, c] = [await newUser(), await newUser(), await newUser()];
    const before = Date.now();
    const room = await store.createRoom({ roomId: randomName('r'), name: 'Lunch', createdBy: a, members: [c, b] });
    const rows = await takeAll();
    expect(rows.map((r) => r.key).sort()).toEqual([a, b, c].sort());
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    for (const row of rows) {
      expect(row).toMatchObject({ aggregateId: room.roomId, recordType: 'deliver' });
      expect(row.createdAt).toBeGreaterThanOrEqual(before - 5_000);
      expect(roomFrameOf(row)).toEqual({
        type: 'room',
        id: roomFrameOf(rows[0]!).id,
        event: 'created',
        room: { roomId: room.roomId, name: 'Lunch', members: room.members, kind: 'group' },
        by: a,
      });
    }
    expect(await takeAll()).toEqual([]);
  });

  it('writes member.added rows for every member after the change, once; a refused change writes nothing', async () => {
    const [a, b, c] = [await newUser(), await newUser(), await newUser()];
    const room = await store.createRoom({ roomId: randomName('r'), name: 'Team', createdBy: a, members: [b] });
    await takeAll();
    expect(await store.addMember(room.roomId, a, c)).toBe(true);
    const rows = await takeAll();
    expect(rows.map((r) => r.key).sort()).toEqual([a, b, c].sort());
    for (const row of rows) {
      expect(roomFrameOf(row)).toMatchObject({
        event: 'member.added',
        by: a,
        member: c,
        room: { roomId: room.roomId, members: [a, b, c].sort() },
      });
    }
    expect(await store.addMember(room.roomId, a, c)).toBe(false);
    await expect(store.addMember(room.roomId, a, 'nobody-here')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(store.createRoom({ roomId: randomName('r'), name: 'x', createdBy: a, members: ['nobody-here'] })).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
    });
    expect(await takeAll()).toEqual([]);
  });

  it('claims at most limit rows in the order written, and deletes only what was published', async () => {
    const a = await newUser();
    const rooms = [];
    for (let i = 0; i < 3; i++)
      rooms.push(await store.createRoom({ roomId: randomName(`r${i}`), name: `n${i}`, createdBy: a, members: [] }));
    const order: string[] = [];
    expect(await store.outbox.relay(2, async (entries) => void order.push(...entries.map((e) => e.aggregateId)))).toBe(2);
    expect(await store.outbox.backlog()).toMatchObject({ pending: 1 });
    expect(await store.outbox.relay(2, async (entries) => void order.push(...entries.map((e) => e.aggregateId)))).toBe(1);
    expect(order).toEqual(rooms.map((r) => r.roomId));
    expect(await store.outbox.backlog()).toEqual({ pending: 0, oldestCreatedAt: undefined });
  });

  it('keeps every claimed row when publish fails, rethrows, and offers the same rows again', async () => {
    const [a, b] = [await newUser(), await newUser()];
    await store.createRoom({ roomId: randomName('r'), name: 'n', createdBy: a, members: [b] });
    let firstIds: string[] = [];
    const failure = new UnavailableError('kafka down');
    await expect(
      store.outbox.relay(10, async (entries) => {
        firstIds = entries.map((e) => e.id);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(firstIds).toHaveLength(2);
    const backlog = await store.outbox.backlog();
    expect(backlog.pending).toBe(2);
    expect(backlog.oldestCreatedAt).toBeGreaterThan(Date.now() - 60_000);
    expect((await takeAll()).map((r) => r.id)).toEqual(firstIds);
  });

  it('never hands one row to two relays at once; a second relay skips held rows instead of waiting (PGlite: waits)', async () => {
    const a = await newUser();
    for (let i = 0; i < 10; i++) await store.createRoom({ roomId: randomName('r'), name: `n${i}`, createdBy: a, members: [] });
    const seen: string[][] = [[], []];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstClaimed!: () => void;
    const claimed = new Promise<void>((resolve) => (firstClaimed = resolve));
    // The first relay holds 4 rows while the second one claims: it must get the other 6.
    const first = store.outbox.relay(4, async (entries) => {
      seen[0]!.push(...entries.map((e) => e.id));
      firstClaimed();
      await firstHolds;
    });
    await claimed;
    let secondDone = false;
    const second = h.other.outbox
      .relay(100, async (entries) => void seen[1]!.push(...entries.map((e) => e.id)))
      .finally(() => (secondDone = true));
    // With row locks skipped, the second relay finishes while the first still holds its rows.
    if (!h.oneConnection) await second;
    expect(secondDone).toBe(!h.oneConnection);
    releaseFirst();
    expect(await first).toBe(4);
    expect(await second).toBe(6);
    expect(seen[0]!.filter((id) => seen[1]!.includes(id))).toEqual([]);
    expect(await takeAll()).toEqual([]);
  });
});
