import { ChatError } from '../../src/domain/errors';
import type { ErrorCode } from '../../src/protocol/error-codes';
import { ServerFrameSchema, type ServerFrame } from '../../src/protocol/frames';
import type { ChatStore } from '../../src/ports/chat-store';
import type { OutboxEntry } from '../../src/ports/outbox';
import { appendOne } from '../support/append-one';
import { randomName } from '../support/infra';
import { storeAdapters, type StoreHarness } from './store-harness';

/**
 * The v1.1 room operations of the ChatStore contract (src/ports/chat-store.ts): direct
 * rooms (one per pair, also when both ask at once on two instances), rename, removal and
 * leaving, the paged room list, and the outbox rows each change writes. Every adapter runs
 * all of it; Prisma on a scratch database of its own (the outbox checks read every
 * pending row), with a second store as "another instance".
 */
const adapters = storeAdapters({ database: 'scratch' });

jest.setTimeout(60_000);

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error: unknown = await promise.then(
    () => new Error(`expected ${code}, but it resolved`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  expect((error as ChatError).code).toBe(code);
}

function roomFrameOf(entry: OutboxEntry): Extract<ServerFrame, { type: 'room' }> {
  const frame = ServerFrameSchema.parse((entry.payload as { frame?: unknown }).frame);
  if (frame.type !== 'room') throw new Error(`expected a room frame, got ${frame.type}`);
  return frame;
}

describe.each(adapters)('ChatStore rooms v1.1 contract: %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: ChatStore;

  beforeAll(async () => {
    h = await makeHarness();
    store = h.store;
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    while ((await store.outbox.relay(1000, async () => {})) > 0);
  });

  const newUser = async (prefix = 'u'): Promise<string> => {
    const userId = randomName(prefix);
    await store.createUser({ userId, displayName: userId, passwordHash: 'hash' });
    return userId;
  };
  const newRoom = async (createdBy: string, members: string[] = []) =>
    store.createRoom({ roomId: randomName('r'), name: 'Room', createdBy, members });
  const takeAll = async (): Promise<OutboxEntry[]> => {
    const taken: OutboxEntry[] = [];
    await store.outbox.relay(1000, async (entries) => {
      taken.push(...entries);
    });
    return taken;
  };
  const append = (roomId: string, senderId: string) =>
    appendOne(store, { id: randomName('m'), roomId, senderId, clientMsgId: randomName('c'), text: 'hi' });

  describe('openDm', () => {
    it('creates the pair’s direct room once: the same room whoever asks and however often', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const roomId = randomName('dm');
      const first = await store.openDm({ roomId, userId: a, otherUserId: b });
      expect(first.created).toBe(true);
      expect(first.room).toEqual({ roomId, name: [a, b].sort().join(', '), members: [a, b].sort(), lastSeq: 0, kind: 'dm' });
      const again = await h.other.openDm({ roomId: randomName('dm'), userId: b, otherUserId: a });
      expect(again).toEqual({ room: first.room, created: false });
      expect((await store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: b })).room.roomId).toBe(roomId);
      expect((await store.listRooms(a)).filter((r) => r.kind === 'dm')).toEqual([first.room]);
    });

    it('gives one room when both users ask at the same time, in both orders, on two instances', async () => {
      for (let round = 0; round < 5; round++) {
        const [a, b] = [await newUser(), await newUser()];
        const results = await Promise.all([
          store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: b }),
          h.other.openDm({ roomId: randomName('dm'), userId: b, otherUserId: a }),
          h.other.openDm({ roomId: randomName('dm'), userId: a, otherUserId: b }),
          store.openDm({ roomId: randomName('dm'), userId: b, otherUserId: a }),
        ]);
        expect(new Set(results.map((r) => r.room.roomId)).size).toBe(1);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await store.listRooms(a)).toEqual([{ ...results[0]!.room }]);
      }
    });

    it('tells both members once, with a created frame of kind dm', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const { room } = await store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: b });
      await store.openDm({ roomId: randomName('dm'), userId: b, otherUserId: a });
      const rows = await takeAll();
      expect(rows.map((r) => r.key).sort()).toEqual([a, b].sort());
      for (const row of rows)
        expect(roomFrameOf(row)).toMatchObject({
          event: 'created',
          by: a,
          room: { roomId: room.roomId, kind: 'dm', members: [a, b].sort() },
        });
    });

    it('refuses a DM with oneself (DM_WITH_SELF) and with an unknown user (USER_NOT_FOUND), writing nothing', async () => {
      const a = await newUser();
      await expectCode(store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: a }), 'DM_WITH_SELF');
      await expectCode(store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: randomName('ghost') }), 'USER_NOT_FOUND');
      expect(await store.listRooms(a)).toEqual([]);
      expect(await takeAll()).toEqual([]);
    });

    it('keeps a direct room’s name and members: rename, add and remove are ROOM_IS_DM', async () => {
      const [a, b, c] = [await newUser(), await newUser(), await newUser()];
      const { room } = await store.openDm({ roomId: randomName('dm'), userId: a, otherUserId: b });
      await takeAll();
      await expectCode(store.renameRoom(room.roomId, a, 'ours'), 'ROOM_IS_DM');
      await expectCode(store.addMember(room.roomId, a, c), 'ROOM_IS_DM');
      await expectCode(store.removeMember(room.roomId, a, b), 'ROOM_IS_DM');
      await expectCode(store.removeMember(room.roomId, a, a), 'ROOM_IS_DM');
      // An outsider learns nothing about the room: not a member comes first.
      await expectCode(store.renameRoom(room.roomId, c, 'x'), 'NOT_A_MEMBER');
      expect(await store.getRoom(room.roomId)).toEqual(room);
      expect(await takeAll()).toEqual([]);
    });
  });

  describe('renameRoom', () => {
    it('renames for a member and tells every member; the same name changes nothing', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      await takeAll();
      const renamed = await h.other.renameRoom(room.roomId, b, 'New name');
      expect(renamed).toEqual({ ...room, name: 'New name' });
      expect(await store.getRoom(room.roomId)).toEqual(renamed);
      const rows = await takeAll();
      expect(rows.map((r) => r.key).sort()).toEqual([a, b].sort());
      expect(new Set(rows.map((r) => roomFrameOf(r).id)).size).toBe(1);
      expect(roomFrameOf(rows[0]!)).toMatchObject({ event: 'renamed', by: b, room: { name: 'New name', kind: 'group' } });
      expect(await store.renameRoom(room.roomId, a, 'New name')).toEqual(renamed);
      expect(await takeAll()).toEqual([]);
    });

    it('refuses ROOM_NOT_FOUND and NOT_A_MEMBER, changing nothing', async () => {
      const [a, outsider] = [await newUser(), await newUser()];
      const room = await newRoom(a);
      await takeAll();
      await expectCode(store.renameRoom(randomName('nothing'), a, 'x'), 'ROOM_NOT_FOUND');
      await expectCode(store.renameRoom(room.roomId, outsider, 'x'), 'NOT_A_MEMBER');
      expect((await store.getRoom(room.roomId))?.name).toBe('Room');
      expect(await takeAll()).toEqual([]);
    });
  });

  describe('removeMember', () => {
    it('lets a member leave, telling the members left and the one who left', async () => {
      const [a, b, c] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(a, [b, c]);
      await takeAll();
      await h.other.removeMember(room.roomId, b, b);
      expect(await store.roomMembers(room.roomId)).toEqual([a, c].sort());
      expect(await store.listRooms(b)).toEqual([]);
      expect(await store.coMembers(b)).toEqual([]);
      const rows = await takeAll();
      expect(rows.map((r) => r.key).sort()).toEqual([a, b, c].sort());
      for (const row of rows)
        expect(roomFrameOf(row)).toMatchObject({ event: 'member.removed', by: b, member: b, room: { members: [a, c].sort() } });
    });

    it('lets the creator remove someone; others get NOT_ROOM_CREATOR', async () => {
      const [creator, b, c] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(creator, [b, c]);
      await takeAll();
      await expectCode(store.removeMember(room.roomId, b, c), 'NOT_ROOM_CREATOR');
      await store.removeMember(room.roomId, creator, c);
      expect(await store.roomMembers(room.roomId)).toEqual([creator, b].sort());
      const rows = await takeAll();
      expect(rows.map((r) => r.key).sort()).toEqual([creator, b, c].sort());
      expect(roomFrameOf(rows[0]!)).toMatchObject({ event: 'member.removed', by: creator, member: c });
    });

    it('refuses ROOM_NOT_FOUND, NOT_A_MEMBER and MEMBER_NOT_FOUND, changing nothing', async () => {
      const [a, b, outsider] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      await takeAll();
      await expectCode(store.removeMember(randomName('nothing'), a, b), 'ROOM_NOT_FOUND');
      await expectCode(store.removeMember(room.roomId, outsider, outsider), 'NOT_A_MEMBER');
      await expectCode(store.removeMember(room.roomId, outsider, b), 'NOT_A_MEMBER');
      await expectCode(store.removeMember(room.roomId, a, outsider), 'MEMBER_NOT_FOUND');
      await expectCode(store.removeMember(room.roomId, a, randomName('ghost')), 'MEMBER_NOT_FOUND');
      expect(await store.roomMembers(room.roomId)).toEqual([a, b].sort());
      expect(await takeAll()).toEqual([]);
    });

    it('removes once when two instances remove the same member at the same time', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      await takeAll();
      const results = await Promise.allSettled([store.removeMember(room.roomId, a, b), h.other.removeMember(room.roomId, a, b)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect((refused?.reason as ChatError).code).toBe('MEMBER_NOT_FOUND');
      expect((await takeAll()).filter((r) => r.key === b)).toHaveLength(1);
    });

    it('stops appends by, and fan-out to, the removed member at once', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const before = await append(room.roomId, a);
      expect(before.members).toEqual([a, b].sort());
      await store.removeMember(room.roomId, a, b);
      const after = await appendOne(h.other, {
        id: randomName('m'),
        roomId: room.roomId,
        senderId: a,
        clientMsgId: randomName('c'),
        text: 'x',
      });
      expect(after.members).toEqual([a]);
      const [refused] = await h.other.appendMessages([
        { id: randomName('m'), roomId: room.roomId, senderId: b, clientMsgId: randomName('c'), text: 'x' },
      ]);
      expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_A_MEMBER' } });
      // Back in through addMember, the user counts again.
      await store.addMember(room.roomId, a, b);
      expect((await append(room.roomId, b)).members).toEqual([a, b].sort());
    });
  });

  describe('listRooms pages', () => {
    it('walks every room of the user exactly once, oldest first, with kind', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push((await newRoom(i % 2 === 0 ? a : b, i % 2 === 0 ? [] : [a])).roomId);
      made.push((await store.openDm({ roomId: randomName('dm'), userId: b, otherUserId: a })).room.roomId);
      await newRoom(b); // not a's
      // Rooms made in one millisecond list by roomId, so the order is the store's to tell.
      const all = await store.listRooms(a);
      expect(all.map((r) => r.roomId).sort()).toEqual([...made].sort());
      expect(all.filter((r) => r.kind === 'dm').map((r) => r.roomId)).toEqual([made[7]]);
      expect(await store.listRooms(a)).toEqual(all);
      for (const size of [1, 3, 8, 20]) {
        const walked: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await h.other.listRooms(a, { ...(after === undefined ? {} : { afterRoomId: after }), limit: size });
          walked.push(...page.map((r) => r.roomId));
          if (page.length < size) break;
          after = page[page.length - 1]!.roomId;
        }
        expect(walked).toEqual(all.map((r) => r.roomId));
      }
    });

    it('keeps its place when the cursor’s room was left, and refuses an unknown cursor (VALIDATION)', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await newRoom(a);
      await newRoom(b, [a]);
      await newRoom(a);
      const [first, ...rest] = await store.listRooms(a);
      await store.removeMember(first!.roomId, a, a);
      expect(await store.listRooms(a, { afterRoomId: first!.roomId, limit: 5 })).toEqual(rest);
      await expectCode(store.listRooms(a, { afterRoomId: randomName('nothing') }), 'VALIDATION');
    });
  });
});
