import { createLocalInstanceDirectory } from '../../src/adapters/memory/local-instance-directory';
import { createRedisInstanceDirectory } from '../../src/adapters/redis/redis-instance-directory';
import type { InstanceView } from '../../src/protocol/instance-view';
import type { InstanceDirectory } from '../../src/ports/instance-directory';
import { openRedisHarness, type RedisHarness } from '../support/redis-harness';

/**
 * The InstanceDirectory contract (src/ports/instance-directory.ts), the parts the inbox
 * janitor relies on, against the local adapter and the Redis one on the real Redis: views
 * expire with their TTL, sightings outlive them until forgotten, and noting a sighting never
 * overwrites one on record. "Another instance" reads through its own connection.
 */
interface Harness {
  make(now: () => number): { mine: InstanceDirectory; theirs: InstanceDirectory };
  close(): Promise<void>;
}

const view = (instanceId: string): InstanceView => ({
  instanceId,
  url: 'http://127.0.0.1:1',
  roles: ['gateway', 'owner'],
  bus: 'kafka',
  startedAt: new Date(0).toISOString(),
  reportedAt: new Date(0).toISOString(),
  owner: null,
  lag: [],
  connections: { ws: 0, sse: 0 },
});

const adapters: [string, () => Promise<Harness>][] = [
  [
    'local',
    async () => ({
      make: (now) => {
        const d = createLocalInstanceDirectory({ now });
        return { mine: d, theirs: d };
      },
      close: async () => {},
    }),
  ],
  [
    'redis',
    async () => {
      const redis: RedisHarness = await openRedisHarness('instance-directory');
      return {
        make: (now) => {
          const prefix = redis.prefix();
          const seenKey = `${redis.prefix()}seen`;
          return {
            mine: createRedisInstanceDirectory({ redis: redis.a, prefix, seenKey, now }),
            theirs: createRedisInstanceDirectory({ redis: redis.b, prefix, seenKey, now }),
          };
        },
        close: () => redis.close(),
      };
    },
  ],
];

describe.each(adapters)('InstanceDirectory contract: %s', (_name, open) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await open();
  });
  afterAll(() => harness.close());

  it('records a sighting with every announcement, kept after the view expires, until forgotten', async () => {
    let now = 1_000_000;
    const { mine, theirs } = harness.make(() => now);
    await mine.announce(view('a'), 60_000);
    now += 5_000;
    await mine.announce(view('b'), 60_000);
    expect(new Map(await theirs.lastSeen())).toEqual(
      new Map([
        ['a', 1_000_000],
        ['b', 1_005_000],
      ]),
    );
    await mine.withdraw('a');
    expect((await theirs.list()).map((v) => v.instanceId)).toEqual(['b']);
    expect((await theirs.lastSeen()).get('a')).toBe(1_000_000);
    await theirs.forget('a');
    expect([...(await mine.lastSeen()).keys()]).toEqual(['b']);
  });

  it('noteSeen records a sighting only where none is on record', async () => {
    const now = 2_000_000;
    const { mine, theirs } = harness.make(() => now);
    await mine.announce(view('known'), 60_000);
    await theirs.noteSeen('known', 1);
    await theirs.noteSeen('orphan', 1_500_000);
    await theirs.noteSeen('orphan', 1_900_000);
    const seen = await mine.lastSeen();
    expect(seen.get('known')).toBe(2_000_000);
    expect(seen.get('orphan')).toBe(1_500_000);
  });
});
