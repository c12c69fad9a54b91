import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { UnavailableError } from '../../src/domain/errors';
import { roomChangeEntries } from '../../src/domain/room-changes';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import type { Bus, OutboundRecord } from '../../src/ports/bus';
import type { ChatStore } from '../../src/ports/chat-store';
import type { Outbox, OutboxEntry } from '../../src/ports/outbox';
import { createOutboxRelay, idlePollDelayMs, type OutboxRelay } from '../../src/relay/outbox-relay';
import { outboxRecord } from '../../src/relay/outbox-record';
import { silentLogger, waitFor } from '../support/infra';

const TOPICS = { chat: 'chat-request' };
const FAST = { initialMs: 1, maxMs: 5, factor: 2 };

/** A bus that records what it is asked to publish, and refuses while `failing` > 0. */
function recordingBus(): { bus: Bus; published: OutboundRecord[]; failNext(n: number): void; attempts(): number } {
  const published: OutboundRecord[] = [];
  let failing = 0;
  let attempts = 0;
  const bus: Bus = {
    kind: 'memory',
    inboxTopicOf: (id) => `inbox.${id}`,
    async publish(records) {
      attempts++;
      if (failing > 0) {
        failing--;
        throw new UnavailableError('broker unavailable');
      }
      published.push(...records);
    },
    openInbox: () => undefined,
    joinOwnerGroup: () => undefined,
    ownerStatus: () => ({ state: 'idle', memberId: undefined, partitions: [] }),
    health: async () => ({ ok: true }),
    start: async () => undefined,
    stop: async () => undefined,
  };
  return { bus, published, failNext: (n) => (failing = n), attempts: () => attempts };
}

describe('outboxRecord', () => {
  const entry = (over: Partial<OutboxEntry> = {}): OutboxEntry => {
    const [row] = roomChangeEntries(
      { event: 'created', room: { roomId: 'r1', name: 'Lunch', members: ['alice'], kind: 'group' }, by: 'alice' },
      () => 'id-1',
    );
    return { ...row!, createdAt: 1_700_000_000_000, ...over };
  };

  it('is the deliver record on the chat topic, keyed by the member, with the row id and commit time', () => {
    const out = outboxRecord(entry(), TOPICS);
    expect(out).toMatchObject({
      topic: 'chat-request',
      key: 'alice',
      record: { v: 1, id: 'id-1', type: 'deliver', userId: 'alice', ts: 1_700_000_000_000 },
    });
    expect(out?.record.type === 'deliver' && out.record.payload.frame.type).toBe('room');
  });

  it('refuses an unknown record type, a payload the envelope refuses, and a bad key', () => {
    expect(outboxRecord(entry({ recordType: 'chat.send' }), TOPICS)).toBeUndefined();
    expect(outboxRecord(entry({ recordType: 'self.destruct' }), TOPICS)).toBeUndefined();
    expect(outboxRecord(entry({ payload: { frame: { type: 'room' } } }), TOPICS)).toBeUndefined();
    expect(outboxRecord(entry({ payload: 'not an object' }), TOPICS)).toBeUndefined();
    expect(outboxRecord(entry({ key: 'no spaces allowed' }), TOPICS)).toBeUndefined();
  });
});

describe('roomChangeEntries', () => {
  it('gives every member one row keyed by them, all carrying one change id and the snapshot', () => {
    let n = 0;
    const rows = roomChangeEntries(
      { event: 'member.added', room: { roomId: 'r1', name: 'n', members: ['a', 'b', 'c'], kind: 'group' }, by: 'a', member: 'c' },
      () => `id-${++n}`,
    );
    expect(rows.map((r) => [r.id, r.key, r.aggregateId, r.recordType])).toEqual([
      ['id-2', 'a', 'r1', 'deliver'],
      ['id-3', 'b', 'r1', 'deliver'],
      ['id-4', 'c', 'r1', 'deliver'],
    ]);
    for (const r of rows)
      expect(r.payload.frame).toEqual({
        type: 'room',
        id: 'id-1',
        event: 'member.added',
        room: { roomId: 'r1', name: 'n', members: ['a', 'b', 'c'], kind: 'group' },
        by: 'a',
        member: 'c',
      });
  });
});

describe('outbox relay', () => {
  let store: ChatStore;
  let metrics: Metrics;
  let relay: OutboxRelay | undefined;

  beforeEach(async () => {
    store = createMemoryChatStore();
    metrics = createMetrics({ defaultMetrics: false });
    for (const u of ['alice', 'bob', 'carol']) await store.createUser({ userId: u, displayName: u, passwordHash: 'h' });
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });
  const start = async (
    bus: Bus,
    over: { batchSize?: number; pollIntervalMs?: number; idlePollMaxMs?: number; outbox?: Outbox } = {},
  ): Promise<OutboxRelay> => {
    relay = createOutboxRelay({
      outbox: over.outbox ?? store.outbox,
      bus,
      topics: TOPICS,
      batchSize: over.batchSize ?? 100,
      pollIntervalMs: over.pollIntervalMs ?? 60_000,
      ...(over.idlePollMaxMs === undefined ? {} : { idlePollMaxMs: over.idlePollMaxMs }),
      backoff: FAST,
      logger: silentLogger(),
      metrics,
    });
    await relay.start();
    return relay;
  };
  const counter = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
    return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
  };

  it('publishes what is pending at start, each row once, then deletes it', async () => {
    await store.createRoom({ roomId: 'r1', name: 'Lunch', createdBy: 'alice', members: ['bob'] });
    const { bus, published } = recordingBus();
    await start(bus);
    await waitFor('2 records published', () => published.length === 2, { timeoutMs: 5_000 });
    expect(published.map((p) => [p.topic, p.key, p.record.type]).sort()).toEqual([
      ['chat-request', 'alice', 'deliver'],
      ['chat-request', 'bob', 'deliver'],
    ]);
    await waitFor('outbox empty', async () => (await store.outbox.backlog()).pending === 0, { timeoutMs: 5_000 });
    expect(await counter('chat_outbox_relayed_total', { outcome: 'published' })).toBe(2);
  });

  it('relays a change at once when nudged, not at the next poll', async () => {
    const { bus, published } = recordingBus();
    let passesDone = 0;
    const counted: Outbox = {
      relay: (limit, publish) => store.outbox.relay(limit, publish),
      backlog: async () => {
        passesDone++; // asked at the end of every pass that was not full
        return store.outbox.backlog();
      },
    };
    const r = await start(bus, { pollIntervalMs: 60_000, outbox: counted });
    await waitFor('the first (empty) pass to end', () => passesDone === 1, { timeoutMs: 5_000 });
    await store.createRoom({ roomId: 'r1', name: 'Lunch', createdBy: 'alice', members: [] });
    r.nudge();
    await waitFor('published after the nudge', () => published.length === 1, { timeoutMs: 5_000 });
  });

  it('keeps rows while the bus refuses them, backs off, and publishes them (same ids) once it recovers', async () => {
    await store.createRoom({ roomId: 'r1', name: 'Lunch', createdBy: 'alice', members: ['bob', 'carol'] });
    const ids = (await peekIds(store.outbox)).sort();
    const { bus, published, failNext, attempts } = recordingBus();
    failNext(4);
    await start(bus);
    await waitFor('4 refused attempts and a success', () => published.length === 3, { timeoutMs: 5_000 });
    expect(attempts()).toBe(5);
    expect(await counter('chat_outbox_relay_failures_total')).toBe(4);
    expect(ids).toHaveLength(3);
    expect(published.map((p) => p.record.id).sort()).toEqual(ids);
    await waitFor('outbox empty', async () => (await store.outbox.backlog()).pending === 0, { timeoutMs: 5_000 });
  });

  it('takes a full batch after another without waiting for the poll interval', async () => {
    for (let i = 0; i < 5; i++) await store.createRoom({ roomId: `r${i}`, name: 'n', createdBy: 'alice', members: [] });
    const { bus, published, attempts } = recordingBus();
    await start(bus, { batchSize: 2, pollIntervalMs: 60_000 });
    await waitFor('all 5 published', () => published.length === 5, { timeoutMs: 5_000 });
    expect(attempts()).toBe(3);
    expect(
      published.map((p) =>
        p.record.type === 'deliver' && p.record.payload.frame.type === 'room' ? p.record.payload.frame.room.roomId : '',
      ),
    ).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('drops a row that can never be produced, counting and logging it, without holding up the rest', async () => {
    const good = roomChangeEntries(
      { event: 'created', room: { roomId: 'r1', name: 'n', members: ['alice'], kind: 'group' }, by: 'alice' },
      () => 'good-1',
    )[0]!;
    const rows: OutboxEntry[] = [
      {
        id: 'bad-1',
        aggregateId: 'r0',
        recordType: 'deliver',
        key: 'alice',
        payload: { frame: { type: 'nonsense' } },
        createdAt: Date.now(),
      },
      { ...good, createdAt: Date.now() },
    ];
    const outbox: Outbox = {
      async relay(limit, publish) {
        const batch = rows.slice(0, limit);
        if (batch.length === 0) return 0;
        await publish(batch);
        rows.splice(0, batch.length);
        return batch.length;
      },
      backlog: async () => ({ pending: rows.length, oldestCreatedAt: rows[0]?.createdAt }),
    };
    const { bus, published } = recordingBus();
    await start(bus, { outbox });
    await waitFor('the good row published', () => published.length === 1, { timeoutMs: 5_000 });
    expect(published[0]?.record.id).toBe('good-1');
    expect(rows).toEqual([]);
    expect(await counter('chat_outbox_relayed_total', { outcome: 'invalid' })).toBe(1);
  });

  it('polls an empty outbox with a look only: no claim (a locking transaction) until a row is there', async () => {
    const { bus, published } = recordingBus();
    let looks = 0;
    let claims = 0;
    const counting: Outbox = {
      backlog: async () => (looks++, store.outbox.backlog()),
      relay: async (limit, publish) => (claims++, store.outbox.relay(limit, publish)),
    };
    await start(bus, { pollIntervalMs: 5, outbox: counting });
    await waitFor('a few idle polls', () => looks >= 5);
    expect(claims).toBe(0);
    await store.createRoom({ roomId: 'r1', name: 'n', createdBy: 'alice', members: [] });
    await waitFor('the row published', () => published.length === 1);
    expect(claims).toBeGreaterThanOrEqual(1);
  });

  it('looks less often while the outbox stays empty, and a nudge during a long idle wait still relays at once', async () => {
    jest.useFakeTimers();
    try {
      const { bus, published } = recordingBus();
      let looks = 0;
      const counting: Outbox = {
        backlog: async () => (looks++, store.outbox.backlog()),
        relay: (limit, publish) => store.outbox.relay(limit, publish),
      };
      // 10 ms doubling to 60 s: looks at 0, 10, 30, 70, 150, 310, 630 and 1270 ms, so 7 in the
      // first second (a fixed 10 ms poll would make 100), and none in the next 0.7 s.
      const r = await start(bus, { pollIntervalMs: 10, idlePollMaxMs: 60_000, outbox: counting });
      await jest.advanceTimersByTimeAsync(1_000);
      expect(looks).toBe(7);
      await jest.advanceTimersByTimeAsync(250);
      expect(looks).toBe(7);
      await store.createRoom({ roomId: 'r1', name: 'n', createdBy: 'alice', members: [] });
      r.nudge();
      await jest.advanceTimersByTimeAsync(0);
      expect(published).toHaveLength(1);
      // The nudge started the schedule again: the next look comes one interval after that pass.
      const before = looks;
      await jest.advanceTimersByTimeAsync(10);
      expect(looks).toBe(before + 1);
      await relay?.stop();
      relay = undefined;
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops after the pass in flight, and publishes nothing after stop', async () => {
    const { bus, published } = recordingBus();
    const r = await start(bus, { pollIntervalMs: 10 });
    await r.stop();
    await store.createRoom({ roomId: 'r1', name: 'n', createdBy: 'alice', members: [] });
    r.nudge();
    expect(published).toEqual([]);
    expect((await store.outbox.backlog()).pending).toBe(1);
  });
});

describe('idlePollDelayMs', () => {
  it('waits the poll interval after a pass with rows and after the first empty look, then doubles up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => idlePollDelayMs(n, 1_000, 8_000))).toEqual([
      1_000, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000,
    ]);
    // No growth when the maximum is the interval (the relay's default), never under the interval.
    expect([0, 1, 5].map((n) => idlePollDelayMs(n, 1_000, 1_000))).toEqual([1_000, 1_000, 1_000]);
    expect(idlePollDelayMs(3, 1_000, 10)).toBe(1_000);
  });
});

/** The ids of everything pending, left pending (a publish that fails keeps the rows). */
async function peekIds(outbox: Outbox): Promise<string[]> {
  const ids: string[] = [];
  await outbox
    .relay(1000, async (entries) => {
      ids.push(...entries.map((e) => e.id));
      throw new Error('peek only');
    })
    .catch(() => undefined);
  return ids;
}
