import { OwnedUsers, type OwnedUser } from '../../src/domain/owned-users';
import { dueForExpiry, expireSessions, expirySweepIntervalMs, lastSessionExpired } from '../../src/domain/session-expiry';
import { silentLogger } from '../support/infra';
import { createSessionExpiryTimer } from '../../src/owner/session-expiry';
import type { OutboundRecord } from '../../src/ports/bus';

/** Session expiry at the owner, on a fake clock (domain/session-expiry.ts, owner/session-expiry.ts). */
const T0 = 1_900_000_000_000;
const TTL = 10_000;

function userWith(sessions: Record<string, number>): OwnedUser {
  const users = new OwnedUsers();
  users.own([0]);
  const live = Object.entries(sessions).map(([connectionId, seenAt]) => ({ instanceId: 'gw-1', connectionId, seenAt }));
  return users.load(0, 'alice', live, T0);
}

describe('session expiry (pure)', () => {
  it('the last session expires strictly after the TTL, counted from the newest seenAt', () => {
    const user = userWith({ c1: T0, c2: T0 + 3_000 });
    expect(lastSessionExpired(user, T0 + TTL + 1, TTL)).toBe(false); // c2 still live
    expect(lastSessionExpired(user, T0 + 3_000 + TTL, TTL)).toBe(false); // exactly the TTL: live
    expect(lastSessionExpired(user, T0 + 3_000 + TTL + 1, TTL)).toBe(true);
    expect(lastSessionExpired(userWith({}), T0 + 10 * TTL, TTL)).toBe(false); // nothing to announce
  });

  it('asks once per user while a request is in flight, and again once that request is a TTL old', () => {
    const user = userWith({ c1: T0 });
    const at = T0 + TTL + 1;
    expect(dueForExpiry([user], at, TTL)).toEqual([user]);
    user.expiryRequestedAt = at;
    expect(dueForExpiry([user], at + 500, TTL)).toEqual([]);
    expect(dueForExpiry([user], at + TTL, TTL)).toEqual([]);
    expect(dueForExpiry([user], at + TTL + 1, TTL)).toEqual([user]);
  });

  it('expireSessions removes every expired session and says whether the user went offline', () => {
    const user = userWith({ c1: T0, c2: T0 + 5_000 });
    expect(expireSessions(user, T0 + TTL + 1, TTL)).toMatchObject({ expired: [{ connectionId: 'c1' }], wentOffline: false });
    expect([...user.sessions.keys()]).toEqual(['c2']);
    expect(expireSessions(user, T0 + TTL + 2, TTL)).toEqual({ expired: [], wentOffline: false });
    expect(expireSessions(user, T0 + 5_000 + TTL + 1, TTL)).toMatchObject({ expired: [{ connectionId: 'c2' }], wentOffline: true });
    expect(user.sessions.size).toBe(0);
  });

  it('the timer looks every twentieth of the TTL, between 20 ms and 1 s', () => {
    expect(expirySweepIntervalMs(90_000)).toBe(1_000);
    expect(expirySweepIntervalMs(6_000)).toBe(300);
    expect(expirySweepIntervalMs(300)).toBe(20);
  });
});

describe('session expiry timer (owner)', () => {
  function setup() {
    let clock = T0;
    const users = new OwnedUsers();
    users.own([0, 1]);
    users.load(0, 'alice', [{ instanceId: 'gw-1', connectionId: 'a1', seenAt: T0 }], T0);
    users.load(1, 'bob', [{ instanceId: 'gw-2', connectionId: 'b1', seenAt: T0 + 2_000 }], T0);
    const published: OutboundRecord[] = [];
    let fail = false;
    const timer = createSessionExpiryTimer({
      users,
      bus: { publish: async (records) => (fail ? Promise.reject(new Error('kafka down')) : void published.push(...records)) },
      chatTopic: 'chat',
      ttlMs: TTL,
      now: () => clock,
      logger: silentLogger(),
    });
    return {
      users,
      published,
      timer,
      at: (t: number) => (clock = t),
      failPublish: (f: boolean) => (fail = f),
    };
  }
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  it('puts one session.expire on the partition of each user whose last session expired, without waiting for an event', async () => {
    const { published, timer, at } = setup();
    at(T0 + TTL);
    timer.sweep();
    expect(published).toEqual([]);
    at(T0 + TTL + 1);
    timer.sweep();
    await flush();
    expect(published.map((r) => [r.topic, r.key, r.record.type, r.record.userId])).toEqual([['chat', 'alice', 'session.expire', 'alice']]);
    timer.sweep(); // in flight: not asked twice
    at(T0 + 2_000 + TTL + 1);
    timer.sweep();
    await flush();
    expect(published.map((r) => r.key)).toEqual(['alice', 'bob']);
  });

  it('a revoked partition stops its users’ expiry', async () => {
    const { users, published, timer, at } = setup();
    users.drop([0]);
    at(T0 + 2_000 + TTL + 1);
    timer.sweep();
    await flush();
    expect(published.map((r) => r.key)).toEqual(['bob']);
  });

  it('a request that could not be written is asked again at the next look', async () => {
    const { published, timer, at, failPublish } = setup();
    at(T0 + TTL + 1);
    failPublish(true);
    timer.sweep();
    await flush();
    expect(published).toEqual([]);
    failPublish(false);
    timer.sweep();
    await flush();
    expect(published.map((r) => r.key)).toEqual(['alice']);
  });
});
