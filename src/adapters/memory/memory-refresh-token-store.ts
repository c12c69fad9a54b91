import { ChatError } from '../../domain/errors';
import type { RefreshTokenStore, RotateOutcome } from '../../ports/refresh-token-store';

interface FamilyRow {
  readonly userId: string;
  revoked: boolean;
  readonly tokens: Set<string>;
}

interface TokenRow {
  readonly familyId: string;
  readonly expiresAt: number;
  used: boolean;
}

/**
 * Refresh-token families in memory, for the in-memory ChatStore. Every method runs
 * without awaiting in between, so each is atomic and rotations of one family are
 * serialised by construction.
 */
export function createMemoryRefreshTokenStore({
  userExists,
}: {
  /** Whether the user exists (the database's foreign key). */
  userExists: (userId: string) => boolean;
}): RefreshTokenStore {
  const families = new Map<string, FamilyRow>();
  const tokens = new Map<string, TokenRow>();

  const revoke = (family: FamilyRow): void => {
    family.revoked = true;
  };

  return {
    async issue({ tokenHash, familyId, userId, expiresAt, now }) {
      if (!userExists(userId)) throw new ChatError('USER_NOT_FOUND', `user ${userId} does not exist`);
      for (const [id, family] of families) {
        if (family.userId !== userId) continue;
        if ([...family.tokens].every((hash) => (tokens.get(hash)?.expiresAt ?? 0) <= now)) {
          for (const hash of family.tokens) tokens.delete(hash);
          families.delete(id);
        }
      }
      if (families.has(familyId) || tokens.has(tokenHash)) throw new ChatError('INTERNAL', 'refresh token or family id already used');
      families.set(familyId, { userId, revoked: false, tokens: new Set([tokenHash]) });
      tokens.set(tokenHash, { familyId, expiresAt, used: false });
    },
    async rotate(tokenHash, next, now): Promise<RotateOutcome> {
      const token = tokens.get(tokenHash);
      const family = token === undefined ? undefined : families.get(token.familyId);
      if (token === undefined || family === undefined) return { ok: false, reason: 'unknown' };
      if (family.revoked) return { ok: false, reason: 'revoked' };
      if (token.used) {
        revoke(family);
        return { ok: false, reason: 'reused', userId: family.userId, familyId: token.familyId };
      }
      if (token.expiresAt <= now) return { ok: false, reason: 'expired' };
      if (tokens.has(next.tokenHash)) throw new ChatError('INTERNAL', 'refresh token already used');
      token.used = true;
      tokens.set(next.tokenHash, { familyId: token.familyId, expiresAt: next.expiresAt, used: false });
      family.tokens.add(next.tokenHash);
      return { ok: true, userId: family.userId, familyId: token.familyId };
    },
    async revokeFamilyOf(tokenHash, userId) {
      const token = tokens.get(tokenHash);
      const family = token === undefined ? undefined : families.get(token.familyId);
      if (family === undefined || family.userId !== userId || family.revoked) return false;
      revoke(family);
      return true;
    },
  };
}
