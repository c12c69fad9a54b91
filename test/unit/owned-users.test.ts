import { OwnedUsers, byInstance, liveSessions } from '../../src/domain/owned-users';
import { newBucket, takeToken } from '../../src/domain/token-bucket';

describe('OwnedUsers', () => {
  it('loads users only on owned partitions and drops them with the partition', () => {
    const users = new OwnedUsers();
    users.own([1, 2]);
    users.load(1, 'a', [], 0);
    users.load(2, 'b', [], 0);
    expect(() => users.load(3, 'c', [], 0)).toThrow(RangeError);
    expect(users.drop([1])).toBe(1);
    expect(users.get(1, 'a')).toBeUndefined();
    expect(users.get(2, 'b')?.userId).toBe('b');
    expect(users.partitions()).toEqual([2]);
  });

  it('keeps a loaded user and its sessions when loaded again', () => {
    const users = new OwnedUsers();
    users.own([0]);
    const u = users.load(0, 'a', [{ instanceId: 'i', connectionId: 'c1', seenAt: 0 }], 0);
    u.sessions.set('c2', { instanceId: 'j', connectionId: 'c2', seenAt: 0 });
    expect(users.load(0, 'a', [], 5).sessions.size).toBe(2);
    expect(users.userCount()).toBe(1);
  });

  it('filters sessions not seen within the ttl and groups the rest by instance', () => {
    const users = new OwnedUsers();
    users.own([0]);
    const u = users.load(
      0,
      'a',
      [
        { instanceId: 'i', connectionId: 'c1', seenAt: 100 },
        { instanceId: 'i', connectionId: 'c2', seenAt: 900 },
        { instanceId: 'j', connectionId: 'c3', seenAt: 950 },
      ],
      0,
    );
    const live = liveSessions(u, 1000, 500);
    expect(live.map((s) => s.connectionId)).toEqual(['c2', 'c3']);
    expect(byInstance(live)).toEqual(
      new Map([
        ['i', ['c2']],
        ['j', ['c3']],
      ]),
    );
  });
});

describe('token bucket', () => {
  it('allows a burst, then the refill rate', () => {
    const limits = { ratePerSec: 2, burst: 3 };
    const b = newBucket(3, 0);
    expect([1, 2, 3, 4].map(() => takeToken(b, 0, limits))).toEqual([true, true, true, false]);
    expect(takeToken(b, 499, limits)).toBe(false);
    expect(takeToken(b, 500, limits)).toBe(true);
    expect(takeToken(b, 100_000, limits)).toBe(true);
    expect(b.tokens).toBe(2);
  });
});
