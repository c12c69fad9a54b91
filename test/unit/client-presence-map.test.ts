import { createPresenceMap } from '../../client/src/presence-map';

/** The client's presence map: the snapshot after `ready`, and `presence` frames newer than it. */
describe('client presence map', () => {
  it('fills from the snapshot; users not listed stay unknown', () => {
    const map = createPresenceMap();
    map.ready();
    expect(
      map.applySnapshot([
        { userId: 'bob', online: true },
        { userId: 'carol', online: false },
      ]),
    ).toEqual([
      { userId: 'bob', online: true },
      { userId: 'carol', online: false },
    ]);
    expect(map.get('bob')).toBe(true);
    expect(map.get('carol')).toBe(false);
    expect(map.get('dave')).toBeUndefined();
  });

  it('a presence frame after ready wins over the snapshot that arrives after it', () => {
    const map = createPresenceMap();
    map.ready();
    expect(map.applyPresence('bob', false)).toBe(true);
    expect(map.applySnapshot([{ userId: 'bob', online: true }])).toEqual([]);
    expect(map.get('bob')).toBe(false);
  });

  it('after a new ready, the next snapshot replaces what older frames said; unchanged entries are not reported', () => {
    const map = createPresenceMap();
    map.ready();
    map.applyPresence('bob', true);
    map.applyPresence('carol', true);
    map.ready(); // reconnected
    expect(
      map.applySnapshot([
        { userId: 'bob', online: false },
        { userId: 'carol', online: true },
      ]),
    ).toEqual([{ userId: 'bob', online: false }]);
    expect([...map.entries()]).toEqual([
      ['bob', false],
      ['carol', true],
    ]);
  });
});
