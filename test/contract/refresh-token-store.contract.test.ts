import { randomBytes, randomUUID } from 'node:crypto';
import { ChatError } from '../../src/domain/errors';
import type { RefreshTokenStore } from '../../src/ports/refresh-token-store';
import { randomName } from '../support/infra';
import { storeAdapters, type StoreHarness } from './store-harness';

/**
 * The RefreshTokenStore contract (src/ports/refresh-token-store.ts) on every adapter: in
 * memory, Prisma on the real PostgreSQL (where `other` is a second instance with its own
 * pool, so concurrency is real) and Prisma on the embedded PGlite.
 */
const adapters = storeAdapters({ database: 'shared' });
const HOUR = 3_600_000;
const hash = (): string => randomBytes(32).toString('base64url');

describe.each(adapters)('RefreshTokenStore contract: %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let tokens: RefreshTokenStore;
  const now = Date.now();

  beforeAll(async () => {
    h = await makeHarness();
    tokens = h.store.refreshTokens;
  });
  afterAll(async () => {
    await h?.close();
  });

  const newUser = async (): Promise<string> => {
    const userId = randomName('rt');
    await h.store.createUser({ userId, displayName: userId, passwordHash: 'hash' });
    return userId;
  };
  /** A user with a fresh family; returns its first token's hash. */
  const login = async (userId: string, expiresAt = now + HOUR): Promise<string> => {
    const tokenHash = hash();
    await tokens.issue({ tokenHash, familyId: randomUUID(), userId, expiresAt, now });
    return tokenHash;
  };
  const next = (expiresAt = now + HOUR) => ({ tokenHash: hash(), expiresAt });

  it('rotates a live token: the successor works, the old one is then reuse', async () => {
    const userId = await newUser();
    const first = await login(userId);
    const second = next();
    const rotated = await tokens.rotate(first, second, now);
    expect(rotated).toEqual({ ok: true, userId, familyId: expect.any(String) });
    const third = next();
    expect(await tokens.rotate(second.tokenHash, third, now)).toMatchObject({ ok: true, userId });
    // The first one again: reuse, and the whole family goes, the newest token included.
    expect(await tokens.rotate(first, next(), now)).toMatchObject({ ok: false, reason: 'reused', userId });
    expect(await tokens.rotate(third.tokenHash, next(), now)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses unknown and expired tokens, without touching the family', async () => {
    const userId = await newUser();
    expect(await tokens.rotate(hash(), next(), now)).toEqual({ ok: false, reason: 'unknown' });
    const first = await login(userId, now + 1_000);
    expect(await tokens.rotate(first, next(), now + 1_000)).toEqual({ ok: false, reason: 'expired' });
    // Still live before its expiry.
    expect(await tokens.rotate(first, next(), now + 999)).toMatchObject({ ok: true });
  });

  it('issue refuses an unknown user', async () => {
    const error: unknown = await tokens
      .issue({ tokenHash: hash(), familyId: randomUUID(), userId: randomName('ghost'), expiresAt: now + HOUR, now })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe('USER_NOT_FOUND');
  });

  it('keeps families apart: reuse in one does not revoke another of the same user', async () => {
    const userId = await newUser();
    const a = await login(userId);
    const b = await login(userId);
    await tokens.rotate(a, next(), now);
    expect(await tokens.rotate(a, next(), now)).toMatchObject({ reason: 'reused' });
    expect(await tokens.rotate(b, next(), now)).toMatchObject({ ok: true });
  });

  it('revokeFamilyOf revokes only the caller’s own family, idempotently', async () => {
    const owner = await newUser();
    const stranger = await newUser();
    const first = await login(owner);
    const second = next();
    await tokens.rotate(first, second, now);
    expect(await tokens.revokeFamilyOf(second.tokenHash, stranger)).toBe(false);
    expect(await tokens.rotate(second.tokenHash, next(), now)).toMatchObject({ ok: true });
    const other = await login(owner);
    expect(await tokens.revokeFamilyOf(other, owner)).toBe(true);
    expect(await tokens.revokeFamilyOf(other, owner)).toBe(false);
    expect(await tokens.rotate(other, next(), now)).toEqual({ ok: false, reason: 'revoked' });
    expect(await tokens.revokeFamilyOf(hash(), owner)).toBe(false);
  });

  it('a login deletes the user’s families that have no live token left', async () => {
    const userId = await newUser();
    const old = await login(userId, now + 1_000);
    const tokenHash = hash();
    await tokens.issue({ tokenHash, familyId: randomUUID(), userId, expiresAt: now + 2 * HOUR, now: now + 2_000 });
    // Gone, not merely expired: it is unknown now.
    expect(await tokens.rotate(old, next(), now)).toEqual({ ok: false, reason: 'unknown' });
    expect(await tokens.rotate(tokenHash, next(now + 3 * HOUR), now + 2_000)).toMatchObject({ ok: true });
  });

  it('of concurrent rotations of one token on two instances, exactly one wins and the other is reuse', async () => {
    for (let round = 0; round < 5; round++) {
      const userId = await newUser();
      const first = await login(userId);
      const [a, b] = [next(), next()];
      const outcomes = await Promise.all([tokens.rotate(first, a, now), h.other.refreshTokens.rotate(first, b, now)]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok)).toEqual([expect.objectContaining({ reason: 'reused' })]);
      // The winner's successor went with the family.
      const winner = outcomes[0]?.ok === true ? a : b;
      expect(await tokens.rotate(winner.tokenHash, next(), now)).toEqual({ ok: false, reason: 'revoked' });
    }
  });
});
