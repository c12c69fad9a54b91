import { directRoomKey, directRoomName } from '../../src/domain/direct-rooms';
import { roomChangeEntries } from '../../src/domain/room-changes';
import { decodeRoomCursor, encodeRoomCursor } from '../../src/gateway/http/room-cursor';
import { ServerFrameSchema } from '../../src/protocol/frames';

describe('room changes (v1.1 events)', () => {
  const room = { roomId: 'r1', name: 'Team', members: ['ann', 'cat'], kind: 'group' as const };
  let n = 0;
  const newId = () => `id-${++n}`;

  it('tells the members left and the removed member of a removal, with one frame naming it', () => {
    const rows = roomChangeEntries({ event: 'member.removed', room, by: 'ann', member: 'bob' }, newId);
    expect(rows.map((r) => r.key)).toEqual(['ann', 'cat', 'bob']);
    const frames = rows.map((r) => ServerFrameSchema.parse(r.payload.frame));
    expect(new Set(frames.map((f) => (f.type === 'room' ? f.id : '')))).toHaveProperty('size', 1);
    expect(frames[2]).toMatchObject({
      type: 'room',
      event: 'member.removed',
      member: 'bob',
      by: 'ann',
      room: { members: ['ann', 'cat'], kind: 'group' },
    });
  });

  it('tells every member of a rename, without a member field', () => {
    const rows = roomChangeEntries({ event: 'renamed', room, by: 'cat' }, newId);
    expect(rows.map((r) => r.key)).toEqual(['ann', 'cat']);
    expect(rows[0]!.payload.frame).not.toHaveProperty('member');
    expect(rows[0]!.payload.frame).toMatchObject({ event: 'renamed', by: 'cat', room: { name: 'Team' } });
  });
});

describe('direct room keys', () => {
  it('are the same whichever side asks', () => {
    expect(directRoomKey('bob', 'alice')).toBe(directRoomKey('alice', 'bob'));
    expect(directRoomKey('bob', 'alice')).toBe('alice bob');
    expect(directRoomName('bob', 'alice')).toBe('alice, bob');
    expect(directRoomKey('ab', 'c')).not.toBe(directRoomKey('a', 'bc'));
  });
});

describe('room cursor', () => {
  it('round-trips a roomId and refuses what the server did not make (VALIDATION)', () => {
    const cursor = encodeRoomCursor('room-1');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRoomCursor(cursor)).toBe('room-1');
    for (const bad of ['', 'junk', Buffer.from('{"v":2,"after":"x"}').toString('base64url'), Buffer.from('[]').toString('base64url')])
      expect(() => decodeRoomCursor(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});
