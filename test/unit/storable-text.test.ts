import { ClientFrameSchema } from '../../src/protocol/frames';
import { CreateRoomBody, RegisterBody, RoomPathParams } from '../../src/protocol/http-schemas';
import { STORABLE_TEXT } from '../../src/protocol/storable-text';

/**
 * Strings PostgreSQL cannot keep as sent (NUL, lone surrogates) are refused where they
 * enter: found by the fuzz test as 500s and as sends that were never acked.
 */
describe('storable text', () => {
  const bad = ['nul\u0000byte', 'a\uD800b', '\uDFFF', 'x\uDBFF'];
  const good = ['plain', '😀 emoji pair', 'e\u0301', '\u202Eright-to-left', '<script>', ''];

  it('accepts well-formed Unicode without NUL and refuses the rest', () => {
    for (const s of good) expect([s, STORABLE_TEXT.test(s)]).toEqual([s, true]);
    for (const s of bad) expect([s, STORABLE_TEXT.test(s)]).toEqual([s, false]);
  });

  it('is enforced on frames: text, roomId, clientMsgId, resume and typing rooms', () => {
    const send = { type: 'send', roomId: 'r', clientMsgId: 'c', text: 'hi' };
    expect(ClientFrameSchema.safeParse(send).success).toBe(true);
    for (const s of bad) {
      expect(ClientFrameSchema.safeParse({ ...send, text: s }).success).toBe(false);
      expect(ClientFrameSchema.safeParse({ ...send, roomId: s }).success).toBe(false);
      expect(ClientFrameSchema.safeParse({ ...send, clientMsgId: s }).success).toBe(false);
      expect(ClientFrameSchema.safeParse({ type: 'typing', roomId: s }).success).toBe(false);
      expect(ClientFrameSchema.safeParse({ type: 'resume', rooms: { [s]: 0 } }).success).toBe(false);
    }
  });

  it('is enforced on REST bodies and path parameters', () => {
    for (const s of bad) {
      expect(RegisterBody.safeParse({ userId: 'alice', password: 'password1', displayName: `x${s}` }).success).toBe(false);
      expect(CreateRoomBody.safeParse({ name: `x${s}` }).success).toBe(false);
      expect(RoomPathParams.safeParse({ roomId: s }).success).toBe(false);
    }
    expect(RegisterBody.safeParse({ userId: 'alice', password: 'password1', displayName: 'Ålice 😀' }).success).toBe(true);
  });
});
