import { OwnedUsers } from '../../src/domain/owned-users';

describe('OwnedUsers', () => {
  it('loads users only on owned partitions and drops them with the partition', () => {
    const users = new OwnedUsers();
    users.own([1, 2]);
    users.load(1, { userId: 'a', displayName: 'A' }, 0);
    users.load(2, { userId: 'b', displayName: 'B' }, 0);
    expect(() => users.load(3, { userId: 'c', displayName: 'C' }, 0)).toThrow(RangeError);
    expect(users.drop([1])).toBe(1);
    expect(users.get(1, 'a')).toBeUndefined();
    expect(users.get(2, 'b')?.displayName).toBe('B');
    expect(users.partitions()).toEqual([2]);
  });

  it('refreshes a loaded user in place, keeping its sessions', () => {
    const users = new OwnedUsers();
    users.own([0]);
    const u = users.load(0, { userId: 'a', displayName: 'A' }, 0);
    u.sessions.set('c1', { instanceId: 'i', connectionId: 'c1' });
    expect(users.load(0, { userId: 'a', displayName: 'A2' }, 5).sessions.size).toBe(1);
    expect(users.userCount()).toBe(1);
  });
});
