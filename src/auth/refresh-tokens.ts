import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ChatError } from '../domain/errors';
import type { RefreshTokenStore, RotateOutcome } from '../ports/refresh-token-store';

/** A refresh token as a client gets it. */
export interface IssuedRefreshToken {
  readonly refreshToken: string;
  /** Seconds until it stops working. */
  readonly refreshExpiresIn: number;
}

/** Why a refresh was refused (logs and metrics only; the client gets INVALID_REFRESH_TOKEN). */
export type RefreshRefusal = Extract<RotateOutcome, { ok: false }>;

export interface RefreshTokens {
  /** A new family for the user (login). */
  issue(userId: string): Promise<IssuedRefreshToken>;
  /** The user and a successor; throws INVALID_REFRESH_TOKEN (after `onRefused`) for any token that is not live. */
  rotate(refreshToken: string, onRefused?: (refusal: RefreshRefusal) => void): Promise<IssuedRefreshToken & { readonly userId: string }>;
  /** Revokes the token's family if it is the user's (logout); resolves whether one was revoked. */
  revoke(refreshToken: string, userId: string): Promise<boolean>;
}

/** 32 random bytes, base64url: what a token looks like; anything else is refused unread. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256, base64url: what the store keeps. A fast hash suffices: the token has 256 random bits, nothing to guess. */
export function hashRefreshToken(refreshToken: string): string {
  return createHash('sha256').update(refreshToken, 'utf8').digest('base64url');
}

/**
 * Opaque refresh tokens (api.md v1.1, docs/security.md): random, stored only hashed,
 * rotating within a family (store: ports/refresh-token-store.ts). Each token lives
 * `ttlSeconds` from its issue, so an active session slides forward and an idle one ends.
 */
export function createRefreshTokens({
  store,
  ttlSeconds,
  now = Date.now,
}: {
  store: RefreshTokenStore;
  ttlSeconds: number;
  /** Clock, ms. */
  now?: () => number;
}): RefreshTokens {
  const mint = (at: number) => {
    const refreshToken = randomBytes(32).toString('base64url');
    return { refreshToken, tokenHash: hashRefreshToken(refreshToken), expiresAt: at + ttlSeconds * 1000 };
  };
  const refused = () => new ChatError('INVALID_REFRESH_TOKEN', 'the refresh token is not valid; log in again');

  return {
    async issue(userId) {
      const at = now();
      const token = mint(at);
      await store.issue({ tokenHash: token.tokenHash, expiresAt: token.expiresAt, familyId: randomUUID(), userId, now: at });
      return { refreshToken: token.refreshToken, refreshExpiresIn: ttlSeconds };
    },
    async rotate(refreshToken, onRefused) {
      if (!TOKEN_SHAPE.test(refreshToken)) {
        onRefused?.({ ok: false, reason: 'unknown' });
        throw refused();
      }
      const at = now();
      const next = mint(at);
      const outcome = await store.rotate(hashRefreshToken(refreshToken), { tokenHash: next.tokenHash, expiresAt: next.expiresAt }, at);
      if (!outcome.ok) {
        onRefused?.(outcome);
        throw refused();
      }
      return { userId: outcome.userId, refreshToken: next.refreshToken, refreshExpiresIn: ttlSeconds };
    },
    async revoke(refreshToken, userId) {
      if (!TOKEN_SHAPE.test(refreshToken)) return false;
      return store.revokeFamilyOf(hashRefreshToken(refreshToken), userId);
    },
  };
}
