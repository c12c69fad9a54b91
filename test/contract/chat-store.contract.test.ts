import { createPrismaChatStore } from '../../src/adapters/prisma/prisma-chat-store';
import { ChatError, UnavailableError } from '../../src/domain/errors';
import type { ErrorCode } from '../../src/protocol/error-codes';
import { MessageSchema, type Message } from '../../src/protocol/message';
import type { ChatStore } from '../../src/ports/chat-store';
import { appendOne } from '../support/append-one';
import { randomName } from '../support/infra';
import { storeAdapters, type StoreHarness } from './store-harness';

/**
 * The ChatStore contract (src/ports/chat-store.ts): what the owner and the REST routes
 * rely on. Every adapter runs all of it — the in-memory store, the Prisma store on the
 * real PostgreSQL (`chat_test`), where "another instance" is a second store with its own
 * PrismaClient and connection pool, and the Prisma store on the embedded PGlite of the
 * single-process default (migrated on start), where there is no other instance.
 */
const adapters = storeAdapters({ database: 'shared' });

/** Awaits a rejection and checks it is a ChatError with `code`. */
async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<ChatError> {
  const error: unknown = await promise.then(
    () => new Error(`expected ${code}, but it resolved`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatError);
  expect((error as ChatError).code).toBe(code);
  return error as ChatError;
}

describe.each(adapters)('ChatStore contract: %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: ChatStore;

  beforeAll(async () => {
    h = await makeHarness();
    store = h.store;
  });
  afterAll(async () => {
    await h?.close();
  });

  const newUser = async (prefix = 'u'): Promise<string> => {
    const userId = randomName(prefix);
    await store.createUser({ userId, displayName: `User ${userId}`, passwordHash: 'hash' });
    return userId;
  };
  const newRoom = async (createdBy: string, members: string[] = [], roomId = randomName('r')) =>
    store.createRoom({ roomId, name: `Room ${roomId}`, createdBy, members });
  const append = (s: ChatStore, roomId: string, senderId: string, clientMsgId: string, text = `text ${clientMsgId}`) =>
    appendOne(s, { id: randomName('m'), roomId, senderId, clientMsgId, text }).then(({ message, created }) => ({ message, created }));

  describe('users', () => {
    it('creates, finds, and refuses a second user with the same id (USER_EXISTS)', async () => {
      const userId = randomName('u');
      await store.createUser({ userId, displayName: 'Alice', passwordHash: 'h1' });
      expect(await store.findUser(userId)).toEqual({ userId, displayName: 'Alice', passwordHash: 'h1' });
      const error = await expectCode(store.createUser({ userId, displayName: 'Other', passwordHash: 'h2' }), 'USER_EXISTS');
      expect(error.retriable).toBe(false);
      expect(await h.other.findUser(userId)).toEqual({ userId, displayName: 'Alice', passwordHash: 'h1' });
      expect(await store.findUser(randomName('nobody'))).toBeUndefined();
    });
  });

  describe('rooms', () => {
    it('creates a room with the creator as a member, members sorted and unique, lastSeq 0', async () => {
      const [a, b, c] = [await newUser('c'), await newUser('a'), await newUser('b')];
      const roomId = randomName('r');
      const room = await store.createRoom({ roomId, name: 'General', createdBy: a, members: [c, b, a, c] });
      const members = [a, b, c].sort();
      expect(room).toEqual({ roomId, name: 'General', members, lastSeq: 0, kind: 'group' });
      expect(await h.other.getRoom(roomId)).toEqual(room);
      expect(await h.other.roomMembers(roomId)).toEqual(members);
    });

    it('refuses a room with an unknown member or creator (USER_NOT_FOUND) and writes nothing', async () => {
      const a = await newUser();
      const ghost = randomName('ghost');
      const roomId = randomName('r');
      const error = await expectCode(store.createRoom({ roomId, name: 'x', createdBy: a, members: [ghost] }), 'USER_NOT_FOUND');
      expect(error.message).toContain(ghost);
      await expectCode(store.createRoom({ roomId, name: 'x', createdBy: ghost, members: [a] }), 'USER_NOT_FOUND');
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.roomMembers(roomId)).toBeUndefined();
      expect(await store.listRooms(a)).toEqual([]);
      // The id is still free.
      expect((await newRoom(a, [], roomId)).roomId).toBe(roomId);
    });

    it('never overwrites an existing room id', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a);
      await expect(store.createRoom({ roomId: room.roomId, name: 'takeover', createdBy: b, members: [] })).rejects.toBeInstanceOf(
        ChatError,
      );
      expect(await store.getRoom(room.roomId)).toEqual(room);
    });

    it('lists the rooms a user is a member of, oldest first, with lastSeq', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const run = randomName('r');
      const r1 = await newRoom(a, [], `${run}-1`);
      const r2 = await newRoom(b, [a], `${run}-2`);
      const r3 = await newRoom(b, [], `${run}-3`);
      await append(store, r2.roomId, a, randomName('c'));
      await append(store, r2.roomId, b, randomName('c'));
      expect(await h.other.listRooms(a)).toEqual([r1, { ...r2, lastSeq: 2 }]);
      expect(await h.other.listRooms(b)).toEqual([{ ...r2, lastSeq: 2 }, r3]);
      expect(await store.listRooms(randomName('nobody'))).toEqual([]);
      expect(await store.getRoom(randomName('nothing'))).toBeUndefined();
    });

    it('adds a member on behalf of a member; twice is a no-op', async () => {
      const [a, b, c] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(a);
      expect(await store.addMember(room.roomId, a, b)).toBe(true);
      expect(await h.other.addMember(room.roomId, a, b)).toBe(false);
      // The new member may add others.
      expect(await store.addMember(room.roomId, b, c)).toBe(true);
      expect(await store.roomMembers(room.roomId)).toEqual([a, b, c].sort());
      expect((await store.listRooms(c)).map((r) => r.roomId)).toEqual([room.roomId]);
    });

    it('refuses addMember with ROOM_NOT_FOUND, NOT_A_MEMBER and USER_NOT_FOUND, changing nothing', async () => {
      const [a, outsider, b] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(a);
      await expectCode(store.addMember(randomName('nothing'), a, b), 'ROOM_NOT_FOUND');
      await expectCode(store.addMember(room.roomId, outsider, b), 'NOT_A_MEMBER');
      await expectCode(store.addMember(room.roomId, outsider, outsider), 'NOT_A_MEMBER');
      // A non-member learns nothing about which users exist.
      await expectCode(store.addMember(room.roomId, outsider, randomName('ghost')), 'NOT_A_MEMBER');
      await expectCode(store.addMember(room.roomId, a, randomName('ghost')), 'USER_NOT_FOUND');
      expect(await store.roomMembers(room.roomId)).toEqual([a]);
    });

    it('adds one member exactly once when two instances add it at the same time', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a);
      const results = await Promise.all([
        store.addMember(room.roomId, a, b),
        h.other.addMember(room.roomId, a, b),
        store.addMember(room.roomId, a, b),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.roomMembers(room.roomId)).toEqual([a, b].sort());
    });

    it('answers coMembers: everyone sharing a room with the user, sorted, without the user', async () => {
      const [alice, bob, carol, dave, eve, frank] = [
        await newUser(),
        await newUser(),
        await newUser(),
        await newUser(),
        await newUser(),
        await newUser(),
      ];
      await newRoom(alice, [bob, carol]);
      await newRoom(bob, [alice, dave]);
      await newRoom(eve, [frank]);
      const loner = await newUser();
      await newRoom(loner);
      expect(await h.other.coMembers(alice)).toEqual([bob, carol, dave].sort());
      expect(await store.coMembers(bob)).toEqual([alice, carol, dave].sort());
      expect(await store.coMembers(carol)).toEqual([alice, bob].sort());
      expect(await store.coMembers(eve)).toEqual([frank]);
      expect(await store.coMembers(loner)).toEqual([]);
      expect(await store.coMembers(randomName('nobody'))).toEqual([]);
    });

    it('answers firstCoMembers: a bounded prefix of coMembers, in the same order', async () => {
      const [alice, bob, carol, dave, eve] = [await newUser(), await newUser(), await newUser(), await newUser(), await newUser()];
      await newRoom(alice, [bob, carol]);
      await newRoom(dave, [alice, bob]);
      await newRoom(eve);
      const all = await store.coMembers(alice);
      expect(all).toEqual([bob, carol, dave].sort());
      expect(await store.firstCoMembers(alice, 10)).toEqual(all);
      expect(await h.other.firstCoMembers(alice, 3)).toEqual(all);
      expect(await store.firstCoMembers(alice, 2)).toEqual(all.slice(0, 2));
      expect(await store.firstCoMembers(alice, 1)).toEqual(all.slice(0, 1));
      expect(await store.firstCoMembers(alice, 0)).toEqual([]);
      expect(await store.firstCoMembers(eve, 5)).toEqual([]);
      expect(await store.firstCoMembers(randomName('nobody'), 5)).toEqual([]);
    });
  });

  describe('messages', () => {
    it('gives seq 1, 2, 3 … and stores what it returns', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const sent: Message[] = [];
      for (const [i, sender] of [a, b, a].entries()) {
        const id = randomName('m');
        const clientMsgId = randomName('c');
        const before = Date.now();
        const { message, created } = await appendOne(store, { id, roomId: room.roomId, senderId: sender, clientMsgId, text: `hello ${i}` });
        expect(created).toBe(true);
        expect(message).toEqual({
          id,
          roomId: room.roomId,
          seq: i + 1,
          senderId: sender,
          text: `hello ${i}`,
          ts: expect.any(String),
          clientMsgId,
        });
        expect(MessageSchema.parse(message)).toEqual(message);
        // ISO 8601 UTC, close to now (database and test clocks are the same machine's).
        expect(message.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Math.abs(Date.parse(message.ts) - before)).toBeLessThan(5_000);
        sent.push(message);
      }
      expect(await h.other.listMessages(room.roomId, { limit: 200 })).toEqual(sent);
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(3);
    });

    it('is idempotent on (senderId, clientMsgId): the same message, created false, no seq consumed', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const other = await newRoom(a);
      const first = await append(store, room.roomId, a, 'c-1', 'original');
      expect(first).toMatchObject({ created: true, message: { seq: 1, text: 'original' } });
      // A retry, even with another record id, text or room, returns the stored message unchanged.
      const again = await append(h.other, room.roomId, a, 'c-1', 'changed');
      expect(again).toEqual({ message: first.message, created: false });
      expect(await append(store, other.roomId, a, 'c-1')).toEqual({ message: first.message, created: false });
      // The pair is per sender: b may use the same clientMsgId.
      expect(await append(store, room.roomId, b, 'c-1')).toMatchObject({ created: true, message: { seq: 2, senderId: b } });
      expect(await append(store, room.roomId, a, 'c-2')).toMatchObject({ created: true, message: { seq: 3 } });
      expect((await store.listMessages(room.roomId, { limit: 200 })).map((m) => m.seq)).toEqual([1, 2, 3]);
      expect((await store.getRoom(other.roomId))?.lastSeq).toBe(0);
    });

    it('refuses appends to an unknown room (ROOM_NOT_FOUND) or by a non-member (NOT_A_MEMBER), consuming no seq', async () => {
      const [a, outsider] = [await newUser(), await newUser()];
      const room = await newRoom(a);
      await expectCode(append(store, randomName('nothing'), a, randomName('c')), 'ROOM_NOT_FOUND');
      await expectCode(append(store, room.roomId, outsider, randomName('c')), 'NOT_A_MEMBER');
      await expectCode(append(store, room.roomId, randomName('ghost'), randomName('c')), 'NOT_A_MEMBER');
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(0);
      expect(await append(store, room.roomId, a, randomName('c'))).toMatchObject({ created: true, message: { seq: 1 } });
    });

    it('appends a list in one call: in list order, each entry on its own (refusals, duplicates, several rooms), with the members', async () => {
      const [a, b, outsider] = [await newUser(), await newUser(), await newUser()];
      const one = await newRoom(a, [b]);
      const two = await newRoom(b);
      const before = await append(store, one.roomId, a, 'earlier');
      const entry = (roomId: string, senderId: string, clientMsgId: string) => ({
        id: randomName('m'),
        roomId,
        senderId,
        clientMsgId,
        text: `text ${clientMsgId}`,
      });
      const list = [
        entry(one.roomId, a, 'c-1'),
        entry(two.roomId, b, 'c-1'),
        entry(one.roomId, outsider, 'c-x'),
        entry(one.roomId, b, 'c-2'),
        entry(randomName('nothing'), a, 'c-3'),
        entry(one.roomId, a, 'c-1'), // the first entry again: reported, not written twice
        entry(one.roomId, a, 'earlier'), // stored by an earlier call
        entry(one.roomId, a, 'c-4'),
      ];
      const outcomes = await store.appendMessages(list);
      expect(
        outcomes.map((o) => (o.ok ? `${o.message.roomId === one.roomId ? 'one' : 'two'}:${o.message.seq}:${o.created}` : o.error.code)),
      ).toEqual(['one:2:true', 'two:1:true', 'NOT_A_MEMBER', 'one:3:true', 'ROOM_NOT_FOUND', 'one:2:false', 'one:1:false', 'one:4:true']);
      for (const o of outcomes) {
        if (o.ok) expect(o.members).toEqual(o.message.roomId === one.roomId ? [a, b].sort() : [b]);
        else expect(o.error.retriable).toBe(false);
      }
      const [first] = outcomes;
      expect(first?.ok && first.message).toMatchObject({ id: list[0]!.id, senderId: a, clientMsgId: 'c-1', text: 'text c-1' });
      expect(outcomes[6]?.ok && outcomes[6].message).toEqual(before.message);
      expect(await h.other.listMessages(one.roomId, { limit: 200 })).toEqual(
        outcomes
          .filter((o) => o.ok && o.created && o.message.roomId === one.roomId)
          .reduce<Message[]>((all, o) => (o.ok ? [...all, o.message] : all), [before.message]),
      );
      expect((await store.getRoom(one.roomId))?.lastSeq).toBe(4);
      expect((await store.getRoom(two.roomId))?.lastSeq).toBe(1);
      expect(await store.appendMessages([])).toEqual([]);
    });

    it('numbers lists appended at once on two instances to overlapping rooms strictly +1, in the order of each list', async () => {
      const senders = [await newUser(), await newUser(), await newUser()];
      const rooms = [await newRoom(senders[0]!, senders), await newRoom(senders[1]!, senders), await newRoom(senders[2]!, senders)];
      // Rooms in opposite orders on the two instances: a statement that locked rooms in
      // list order could deadlock here.
      const lists = Array.from({ length: 8 }, (_, k) =>
        Array.from({ length: 9 }, (_, i) => {
          const room = rooms[(k % 2 === 0 ? i : 8 - i) % 3]!;
          return {
            id: randomName('m'),
            roomId: room.roomId,
            senderId: senders[i % 3]!,
            clientMsgId: `l${k}-${i}`,
            text: `list ${k} entry ${i}`,
          };
        }),
      );
      const results = await Promise.all(lists.map((list, k) => (k % 2 === 0 ? store : h.other).appendMessages(list)));
      for (const [k, outcomes] of results.entries()) {
        expect(outcomes.every((o) => o.ok && o.created)).toBe(true);
        // Within one list, a room's entries got increasing seqs in list order.
        for (const room of rooms) {
          const seqs = outcomes.flatMap((o) => (o.ok && o.message.roomId === room.roomId ? [o.message.seq] : []));
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          expect(seqs.length).toBe(lists[k]!.filter((m) => m.roomId === room.roomId).length);
        }
      }
      for (const room of rooms) {
        const seqs = (await store.listMessages(room.roomId, { limit: 200 })).map((m) => m.seq);
        expect(seqs).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      }
    });

    it('numbers 100 concurrent appends from 5 senders on two instances exactly 1..100', async () => {
      const senders = [await newUser(), await newUser(), await newUser(), await newUser(), await newUser()];
      const room = await newRoom(senders[0]!, senders);
      const perSender = 20;
      // Each sender appends its messages in order (as its owner does); the senders run at
      // once, and consecutive messages of a sender go through alternate instances.
      const results = await Promise.all(
        senders.map(async (sender, s) => {
          const mine: Message[] = [];
          for (let i = 0; i < perSender; i++) {
            const instance = (s + i) % 2 === 0 ? store : h.other;
            const { message, created } = await append(instance, room.roomId, sender, `${sender}-${i}`);
            expect(created).toBe(true);
            mine.push(message);
          }
          return mine;
        }),
      );
      const total = senders.length * perSender;
      const seqs = results
        .flat()
        .map((m) => m.seq)
        .sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const mine of results) {
        // One sender's messages keep their order.
        expect(mine.map((m) => m.seq)).toEqual([...mine.map((m) => m.seq)].sort((x, y) => x - y));
      }
      const stored = await store.listMessages(room.roomId, { limit: 200 });
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Map(stored.map((m) => [m.id, m]))).toEqual(new Map(results.flat().map((m) => [m.id, m])));
      expect((await h.other.getRoom(room.roomId))?.lastSeq).toBe(total);
    });

    it('stores one message when the same (senderId, clientMsgId) is appended concurrently; a loser is retriable', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      const retriesUntilStored = async (instance: ChatStore) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await append(instance, room.roomId, a, 'same');
          } catch (error) {
            // The only acceptable failure: a retriable error (the other append won the race).
            expect(error).toBeInstanceOf(UnavailableError);
            expect((error as ChatError).retriable).toBe(true);
            if (attempt >= 3) throw error;
          }
        }
      };
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => retriesUntilStored(i % 2 === 0 ? store : h.other)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      for (const r of results) expect(r.message).toEqual(results.find((x) => x.created)!.message);
      expect(results[0]!.message.seq).toBe(1);
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(1);
      expect(await append(store, room.roomId, a, 'next')).toMatchObject({ message: { seq: 2 } });
    });

    it('pages with afterSeq, beforeSeq and limit, always in ascending seq order', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      for (let i = 0; i < 10; i++) await append(store, room.roomId, a, randomName('c'));
      const seqs = async (query: Parameters<ChatStore['listMessages']>[1]) =>
        (await h.other.listMessages(room.roomId, query)).map((m) => m.seq);
      expect(await seqs({ limit: 3 })).toEqual([1, 2, 3]);
      expect(await seqs({ afterSeq: 0, limit: 200 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs({ afterSeq: 7, limit: 50 })).toEqual([8, 9, 10]);
      expect(await seqs({ afterSeq: 3, limit: 2 })).toEqual([4, 5]);
      // Only beforeSeq: the newest `limit` before it.
      expect(await seqs({ beforeSeq: 5, limit: 2 })).toEqual([3, 4]);
      expect(await seqs({ beforeSeq: 5, limit: 50 })).toEqual([1, 2, 3, 4]);
      expect(await seqs({ beforeSeq: 1, limit: 50 })).toEqual([]);
      expect(await seqs({ beforeSeq: 100, limit: 3 })).toEqual([8, 9, 10]);
      // Both bounds: the oldest `limit` in the window.
      expect(await seqs({ afterSeq: 2, beforeSeq: 9, limit: 3 })).toEqual([3, 4, 5]);
      expect(await seqs({ afterSeq: 5, beforeSeq: 6, limit: 3 })).toEqual([]);
      expect(await seqs({ afterSeq: 10, limit: 3 })).toEqual([]);
      expect(await store.listMessages(randomName('nothing'), { limit: 10 })).toEqual([]);
    });

    it('refuses a page query out of bounds (VALIDATION)', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      await expectCode(store.listMessages(room.roomId, { limit: 201 }), 'VALIDATION');
      await expectCode(store.listMessages(room.roomId, { limit: 0 }), 'VALIDATION');
      await expectCode(store.listMessages(room.roomId, { afterSeq: -1, limit: 10 }), 'VALIDATION');
      await expectCode(store.listMessages(room.roomId, { beforeSeq: 1.5, limit: 10 }), 'VALIDATION');
    });
  });

  describe('edits and deletes (events in the room sequence)', () => {
    const change = (
      s: ChatStore,
      roomId: string,
      senderId: string,
      edits: string,
      { text = '', deleted = false, clientMsgId = randomName('e') }: { text?: string; deleted?: boolean; clientMsgId?: string } = {},
    ) => appendOne(s, { id: randomName('m'), roomId, senderId, clientMsgId, text, edits, deleted });

    it('stores an edit as the next seq naming the original, and marks the original with the current text', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const original = (await append(store, room.roomId, a, 'c-1', 'helo')).message;
      await append(store, room.roomId, b, 'c-1', 'from b');
      const edit = await change(store, room.roomId, a, original.id, { text: 'hello', clientMsgId: 'e-1' });
      expect(edit.created).toBe(true);
      expect(edit.members).toEqual([a, b].sort());
      expect(edit.message).toEqual({
        id: expect.any(String),
        roomId: room.roomId,
        seq: 3,
        senderId: a,
        text: 'hello',
        ts: expect.any(String),
        clientMsgId: 'e-1',
        edits: original.id,
      });
      expect(MessageSchema.parse(edit.message)).toEqual(edit.message);
      const again = await change(h.other, room.roomId, a, original.id, { text: 'hello!' });
      expect(again.message).toMatchObject({ seq: 4, edits: original.id, text: 'hello!' });
      const history = await h.other.listMessages(room.roomId, { limit: 200 });
      expect(history.map((m) => [m.seq, m.text, m.edits, m.deleted])).toEqual([
        [1, 'hello!', undefined, undefined],
        [2, 'from b', undefined, undefined],
        [3, 'hello', original.id, undefined],
        [4, 'hello!', original.id, undefined],
      ]);
      // The original keeps its seq, id and ts; it says when it was last edited.
      expect(history[0]).toMatchObject({ id: original.id, ts: original.ts, editedAt: again.message.ts });
      expect(history[1]?.editedAt).toBeUndefined();
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(4);
    });

    it('stores a delete as the next seq with deleted and no text; the original and its edits lose their text', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      const original = (await append(store, room.roomId, a, 'c-1', 'secret')).message;
      await change(store, room.roomId, a, original.id, { text: 'still secret' });
      const deletion = await change(store, room.roomId, a, original.id, { deleted: true, text: 'ignored' });
      expect(deletion).toMatchObject({ created: true, message: { seq: 3, edits: original.id, deleted: true, text: '' } });
      expect(MessageSchema.parse(deletion.message)).toEqual(deletion.message);
      const history = await h.other.listMessages(room.roomId, { limit: 200 });
      expect(history.map((m) => [m.seq, m.text, m.edits, m.deleted])).toEqual([
        [1, '', undefined, true],
        [2, '', original.id, undefined],
        [3, '', original.id, true],
      ]);
    });

    it('refuses unknown, foreign, deleted and event targets with their codes, consuming no seq and changing nothing', async () => {
      const [a, b, outsider] = [await newUser(), await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const elsewhere = await newRoom(a);
      const mine = (await append(store, room.roomId, a, 'c-1', 'mine')).message;
      const theirs = (await append(store, room.roomId, b, 'c-1', 'theirs')).message;
      const gone = (await append(store, room.roomId, a, 'c-2', 'gone')).message;
      const edit = (await change(store, room.roomId, a, mine.id, { text: 'mine, edited' })).message;
      await change(store, room.roomId, a, gone.id, { deleted: true });
      const before = await store.listMessages(room.roomId, { limit: 200 });
      expect(before).toHaveLength(5);

      await expectCode(change(store, room.roomId, a, randomName('nothing'), { text: 'x' }), 'MESSAGE_NOT_FOUND');
      await expectCode(change(store, elsewhere.roomId, a, mine.id, { text: 'x' }), 'MESSAGE_NOT_FOUND');
      await expectCode(change(h.other, room.roomId, a, theirs.id, { text: 'x' }), 'NOT_MESSAGE_SENDER');
      await expectCode(change(store, room.roomId, a, theirs.id, { deleted: true }), 'NOT_MESSAGE_SENDER');
      await expectCode(change(store, room.roomId, a, gone.id, { text: 'back' }), 'MESSAGE_DELETED');
      await expectCode(change(store, room.roomId, a, gone.id, { deleted: true }), 'MESSAGE_DELETED');
      const error = await expectCode(change(store, room.roomId, a, edit.id, { text: 'x' }), 'MESSAGE_NOT_EDITABLE');
      expect(error.retriable).toBe(false);
      await expectCode(change(store, room.roomId, outsider, mine.id, { text: 'x' }), 'NOT_A_MEMBER');
      await expectCode(change(store, randomName('nothing'), a, mine.id, { text: 'x' }), 'ROOM_NOT_FOUND');

      expect(await h.other.listMessages(room.roomId, { limit: 200 })).toEqual(before);
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(5);
      expect((await store.getRoom(elsewhere.roomId))?.lastSeq).toBe(0);
    });

    it('is idempotent on (senderId, clientMsgId): a retried edit or delete reports the stored event, no seq consumed', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      const original = (await append(store, room.roomId, a, 'c-1', 'one')).message;
      const edit = await change(store, room.roomId, a, original.id, { text: 'two', clientMsgId: 'e-1' });
      expect(await change(h.other, room.roomId, a, original.id, { text: 'two', clientMsgId: 'e-1' })).toEqual({ ...edit, created: false });
      const deletion = await change(store, room.roomId, a, original.id, { deleted: true, clientMsgId: 'd-1' });
      // A retry of the delete is its stored event, not MESSAGE_DELETED; a retry of the
      // earlier edit is that edit as stored now (its text went with the delete).
      expect(await change(h.other, room.roomId, a, original.id, { deleted: true, clientMsgId: 'd-1' })).toEqual({
        ...deletion,
        created: false,
      });
      expect(await change(store, room.roomId, a, original.id, { text: 'two', clientMsgId: 'e-1' })).toMatchObject({
        created: false,
        message: { id: edit.message.id, seq: 2, text: '' },
      });
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(3);
    });

    it('shares the seq with messages in one list, each entry seeing the ones before it', async () => {
      const [a, b] = [await newUser(), await newUser()];
      const room = await newRoom(a, [b]);
      const entry = (senderId: string, clientMsgId: string, text: string, edits?: string, deleted = false) => ({
        id: randomName('m'),
        roomId: room.roomId,
        senderId,
        clientMsgId,
        text,
        ...(edits === undefined ? {} : { edits, deleted }),
      });
      const first = entry(a, 'c-1', 'first');
      const list = [
        first,
        entry(b, 'c-1', 'from b'),
        entry(a, 'e-1', 'first, edited', first.id),
        entry(a, 'e-2', 'first, edited twice', first.id),
        entry(b, 'e-1', 'not mine', first.id),
        entry(a, 'd-1', '', first.id, true),
        entry(a, 'e-3', 'too late', first.id),
        entry(a, 'e-1', 'first, edited', first.id), // a repeat in the list: reported, not written
        entry(a, 'c-2', 'second'),
      ];
      const outcomes = await store.appendMessages(list);
      expect(outcomes.map((o) => (o.ok ? `${o.message.seq}:${o.created}` : o.error.code))).toEqual([
        '1:true',
        '2:true',
        '3:true',
        '4:true',
        'NOT_MESSAGE_SENDER',
        '5:true',
        'MESSAGE_DELETED',
        '3:false',
        '6:true',
      ]);
      const history = await h.other.listMessages(room.roomId, { limit: 200 });
      expect(history.map((m) => `${m.seq}:${m.text}:${m.edits === first.id ? 'edits' : '-'}:${m.deleted === true}`)).toEqual([
        '1::-:true',
        '2:from b:-:false',
        '3::edits:false',
        '4::edits:false',
        '5::edits:true',
        '6:second:-:false',
      ]);
    });

    it('lets one of two instances changing a deleted-at-once message win: the other is MESSAGE_DELETED', async () => {
      const a = await newUser();
      const room = await newRoom(a);
      const original = (await append(store, room.roomId, a, 'c-1', 'contested')).message;
      const results = await Promise.allSettled([
        change(store, room.roomId, a, original.id, { deleted: true }),
        change(h.other, room.roomId, a, original.id, { deleted: true }),
      ]);
      const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as ChatError).code)).sort();
      expect(codes).toEqual(['MESSAGE_DELETED', 'ok']);
      expect((await store.getRoom(room.roomId))?.lastSeq).toBe(2);
    });
  });

  describe('read cursors', () => {
    const roomWith = async (n: number) => {
      const [alice, bob] = [await newUser(), await newUser()];
      const room = await newRoom(alice, [bob]);
      for (let i = 1; i <= n; i++) await append(store, room.roomId, alice, `c${i}`);
      return { alice, bob, roomId: room.roomId };
    };

    it('moves a cursor only forward: a lower or equal seq writes nothing and reports moved false', async () => {
      const { alice, bob, roomId } = await roomWith(5);
      expect(await store.readCursors(bob, [roomId])).toEqual(new Map());
      expect(await store.markRead(bob, roomId, 3)).toEqual({ moved: true, lastReadSeq: 3, members: [alice, bob].sort() });
      expect(await store.markRead(bob, roomId, 3)).toEqual({ moved: false, lastReadSeq: 3, members: [alice, bob].sort() });
      expect(await store.markRead(bob, roomId, 2)).toEqual({ moved: false, lastReadSeq: 3, members: [alice, bob].sort() });
      expect(await store.markRead(bob, roomId, 0)).toMatchObject({ moved: false, lastReadSeq: 3 });
      expect(await h.other.readCursors(bob, [roomId])).toEqual(new Map([[roomId, 3]]));
      expect(await store.markRead(bob, roomId, 5)).toMatchObject({ moved: true, lastReadSeq: 5 });
      expect(await store.readCursors(bob, [roomId])).toEqual(new Map([[roomId, 5]]));
      // Cursors are per user.
      expect(await store.readCursors(alice, [roomId])).toEqual(new Map());
    });

    it('reads 0 on an empty room as a no-op, not a refusal', async () => {
      const { bob, roomId } = await roomWith(0);
      expect(await store.markRead(bob, roomId, 0)).toMatchObject({ moved: false, lastReadSeq: 0 });
      expect(await store.readCursors(bob, [roomId])).toEqual(new Map());
    });

    it('refuses READ_PAST_END, ROOM_NOT_FOUND and NOT_A_MEMBER, writing nothing', async () => {
      const { bob, roomId } = await roomWith(2);
      const outsider = await newUser('out');
      await store.markRead(bob, roomId, 1);
      const past = await expectCode(store.markRead(bob, roomId, 3), 'READ_PAST_END');
      expect(past.retriable).toBe(false);
      await expectCode(store.markRead(bob, randomName('nowhere'), 1), 'ROOM_NOT_FOUND');
      await expectCode(store.markRead(outsider, roomId, 1), 'NOT_A_MEMBER');
      expect(await store.readCursors(bob, [roomId])).toEqual(new Map([[roomId, 1]]));
      expect(await store.readCursors(outsider, [roomId])).toEqual(new Map());
    });

    it('lists the cursors of the rooms asked for only', async () => {
      const { alice, bob, roomId } = await roomWith(2);
      const other = await newRoom(bob, [alice]);
      await append(store, other.roomId, alice, randomName('c'));
      await store.markRead(bob, roomId, 2);
      await store.markRead(bob, other.roomId, 1);
      expect(await store.readCursors(bob, [roomId, other.roomId, randomName('none')])).toEqual(
        new Map([
          [roomId, 2],
          [other.roomId, 1],
        ]),
      );
      expect(await store.readCursors(bob, [other.roomId])).toEqual(new Map([[other.roomId, 1]]));
      expect(await store.readCursors(bob, [])).toEqual(new Map());
    });

    it('never lowers a cursor when two instances move it at once', async () => {
      const { bob, roomId } = await roomWith(20);
      const seqs = Array.from({ length: 20 }, (_, i) => i + 1);
      const outcomes = await Promise.all(seqs.map((seq) => (seq % 2 === 0 ? store : h.other).markRead(bob, roomId, seq)));
      // The read of 20 always moves it (nothing is higher); a read that moved it reports its own seq;
      // one that did not reports a cursor at least as high as what it asked for.
      expect(outcomes[19]).toMatchObject({ moved: true, lastReadSeq: 20 });
      for (const [i, o] of outcomes.entries()) {
        if (o.moved) expect(o.lastReadSeq).toBe(seqs[i]);
        else expect(o.lastReadSeq).toBeGreaterThanOrEqual(seqs[i]!);
      }
      expect(await store.readCursors(bob, [roomId])).toEqual(new Map([[roomId, 20]]));
    });
  });

  it('reports healthy', async () => {
    expect(await store.health()).toMatchObject({ ok: true });
  });
});

describe('Prisma store: an unreachable database', () => {
  it('is a retriable UnavailableError, and an unhealthy check', async () => {
    const store = createPrismaChatStore({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/chat_test', transactionMaxWaitMs: 1_000 });
    try {
      for (const op of [
        () => store.findUser('alice'),
        () => store.appendMessages([{ id: 'm', roomId: 'r', senderId: 'alice', clientMsgId: 'c', text: 't' }]),
      ]) {
        const error = await expectCode(op(), 'UNAVAILABLE');
        expect(error).toBeInstanceOf(UnavailableError);
        expect(error.retriable).toBe(true);
      }
      expect(await store.health()).toMatchObject({ ok: false });
    } finally {
      await store.stop();
    }
  });
});
