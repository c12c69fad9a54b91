import { createInboxReaper } from '../../src/domain/inbox-reaping';
import { createInboxPresence } from '../../src/adapters/kafka/inbox-presence';

const H = 3_600_000;

describe('inbox reaping', () => {
  const input = (over: Partial<Parameters<ReturnType<typeof createInboxReaper>['plan']>[0]>) => ({
    inboxes: ['a', 'b', 'self', 'live', 'orphan'],
    live: new Set(['live']),
    lastSeen: new Map([
      ['a', 0],
      ['b', 5.5 * H],
      ['live', 0],
      ['self', 0],
      ['old-no-inbox', 0],
      ['recent-no-inbox', 5.5 * H],
    ]),
    self: 'self',
    now: 6 * H,
    ...over,
  });

  it('reaps an instance gone past the retention only on the second pass in a row, never itself or a live one', () => {
    const reaper = createInboxReaper({ retentionMs: H });
    const first = reaper.plan(input({}));
    expect(first.reap).toEqual([]);
    expect(first.note).toEqual(['orphan']);
    expect(first.forget).toEqual(['old-no-inbox']);
    const second = reaper.plan(input({ now: 6.1 * H }));
    expect(second.reap).toEqual(['a']);
  });

  it('spares an instance that came back between the passes', () => {
    const reaper = createInboxReaper({ retentionMs: H });
    reaper.plan(input({}));
    // "a" restarted under its old id: live, or seen again.
    expect(reaper.plan(input({ live: new Set(['live', 'a']) })).reap).toEqual([]);
    const reaper2 = createInboxReaper({ retentionMs: H });
    reaper2.plan(input({}));
    expect(reaper2.plan(input({ lastSeen: new Map([['a', 6 * H]]) })).reap).toEqual([]);
  });

  it('an inbox with no sighting is reaped a retention after it was first noted, not at once', () => {
    const reaper = createInboxReaper({ retentionMs: H });
    const at = (now: number, seen?: number) =>
      reaper.plan({ inboxes: ['x'], live: new Set(), lastSeen: new Map(seen === undefined ? [] : [['x', seen]]), self: 's', now });
    expect(at(0).note).toEqual(['x']);
    expect(at(0.5 * H, 0).reap).toEqual([]);
    expect(at(1 * H, 0).reap).toEqual([]); // first eligible pass
    expect(at(1.1 * H, 0).reap).toEqual(['x']);
  });
});

describe('inbox presence', () => {
  const isInbox = (t: string): boolean => t.startsWith('inbox.');

  it('never drops a topic that is not an inbox, nor an inbox a listing contains; lists once for concurrent callers', async () => {
    let listings = 0;
    const presence = createInboxPresence({
      listTopics: async () => {
        listings++;
        return ['inbox.a', 'chat'];
      },
      isInbox,
    });
    const [one, two] = await Promise.all([presence.absent(['inbox.a', 'chat', 'other']), presence.absent(['inbox.a'])]);
    expect([...one, ...two]).toEqual([]);
    expect(listings).toBe(1);
    expect([...(await presence.absent(['inbox.a']))]).toEqual([]);
    expect(listings).toBe(1); // known present: no listing
  });

  it('drops an inbox only once listings have missed it for the grace period (a new topic lags on some brokers)', async () => {
    let t = 0;
    let topics: string[] = [];
    const presence = createInboxPresence({ listTopics: async () => topics, isInbox, absentGraceMs: 10_000, relistMs: 1_000, now: () => t });
    expect([...(await presence.absent(['inbox.new']))]).toEqual([]); // first miss: produce anyway
    t = 5_000;
    expect([...(await presence.absent(['inbox.new']))]).toEqual([]);
    topics = ['inbox.new']; // it shows up: never dropped
    t = 11_000;
    expect([...(await presence.absent(['inbox.new']))]).toEqual([]);
    // Deleted later: missed from 20 s on, gone from 30 s on.
    topics = [];
    presence.invalidate();
    t = 20_000;
    expect([...(await presence.absent(['inbox.new']))]).toEqual([]);
    t = 29_000;
    expect([...(await presence.absent(['inbox.new']))]).toEqual([]);
    t = 30_500;
    expect([...(await presence.absent(['inbox.new']))]).toEqual(['inbox.new']);
  });

  it('drops nothing when the listing fails', async () => {
    let t = 0;
    const presence = createInboxPresence({
      listTopics: async () => Promise.reject(new Error('kafka down')),
      isInbox,
      absentGraceMs: 0,
      now: () => t,
    });
    expect([...(await presence.absent(['inbox.a']))]).toEqual([]);
    t = 60_000;
    expect([...(await presence.absent(['inbox.a']))]).toEqual([]);
  });

  it('drops a retired inbox at once and whatever listings say, until it is revived; never a non-inbox', async () => {
    let listings = 0;
    const presence = createInboxPresence({
      listTopics: async () => {
        listings++;
        return ['inbox.a', 'inbox.b'];
      },
      isInbox,
    });
    expect([...(await presence.absent(['inbox.a', 'inbox.b']))]).toEqual([]); // both known present
    presence.retire('inbox.a');
    presence.retire('chat'); // not an inbox: ignored
    expect([...(await presence.absent(['inbox.a', 'inbox.b', 'chat']))]).toEqual(['inbox.a']);
    presence.invalidate(); // a listing still shows it (deletion not landed yet): still dropped
    expect([...(await presence.absent(['inbox.a']))]).toEqual(['inbox.a']);
    presence.revive('inbox.a'); // reopened under the same id
    expect([...(await presence.absent(['inbox.a']))]).toEqual([]);
    expect(listings).toBe(2);
  });

  it('holds an unconfirmed inbox until a listing shows it, and shares one wait among its callers, in order', async () => {
    let t = 0;
    let topics: string[] = ['inbox.a'];
    const presence = createInboxPresence({
      listTopics: async () => topics,
      isInbox,
      absentGraceMs: 10_000,
      relistMs: 1_000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
        if (t >= 2_000) topics = ['inbox.a', 'inbox.new']; // a lagging broker catches up
      },
    });
    expect([...presence.unconfirmed(['inbox.a', 'inbox.new', 'chat'])]).toEqual(['inbox.a', 'inbox.new']);
    expect([...(await presence.absent(['inbox.a']))]).toEqual([]); // listed now
    expect([...presence.unconfirmed(['inbox.a', 'inbox.new'])]).toEqual(['inbox.new']);
    const order: string[] = [];
    const first = presence.settle(['inbox.new']).then((gone) => order.push(`first ${[...gone].join()}`));
    const second = presence.settle(['inbox.new']).then((gone) => order.push(`second ${[...gone].join()}`));
    await Promise.all([first, second]);
    expect(order).toEqual(['first ', 'second ']); // not gone, in the order asked
    expect(t).toBe(2_000);
    expect([...presence.unconfirmed(['inbox.new'])]).toEqual([]);
  });

  it('settles an inbox no listing shows as gone after the grace; a retired one at once', async () => {
    let t = 0;
    const presence = createInboxPresence({
      listTopics: async () => ['inbox.live'],
      isInbox,
      absentGraceMs: 10_000,
      relistMs: 1_000,
      now: () => t,
      sleep: async (ms) => void (t += ms),
    });
    expect([...(await presence.settle(['inbox.old', 'inbox.live']))]).toEqual(['inbox.old']);
    expect(t).toBe(10_000);
    presence.retire('inbox.live');
    const before = t;
    expect([...(await presence.settle(['inbox.live']))]).toEqual(['inbox.live']);
    expect(t).toBe(before);
  });

  it('gives up waiting at the deadline when listings keep failing (then the records are produced, as before)', async () => {
    let t = 0;
    const presence = createInboxPresence({
      listTopics: async () => Promise.reject(new Error('kafka down')),
      isInbox,
      absentGraceMs: 3_000,
      relistMs: 1_000,
      now: () => t,
      sleep: async (ms) => void (t += ms),
    });
    expect([...(await presence.settle(['inbox.x']))]).toEqual([]);
    expect(t).toBe(4_000);
  });
});
