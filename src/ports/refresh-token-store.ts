/** A refresh token as the store keeps it: only its hash, never the token. */
export interface NewRefreshToken {
  /** SHA-256 of the opaque token, base64url (auth/refresh-tokens.ts). */
  readonly tokenHash: string;
  /** When it stops working, epoch ms. */
  readonly expiresAt: number;
}

/**
 * What a rotation did: the given token was live, so it is retired and `next` is stored in
 * its family; or it was refused, and why (for logs and metrics only: clients get one code,
 * INVALID_REFRESH_TOKEN, whatever the reason).
 */
export type RotateOutcome =
  | { readonly ok: true; readonly userId: string; readonly familyId: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'revoked' }
  /** The token had been rotated already: its family is now revoked (nothing of it works any more). */
  | { readonly ok: false; readonly reason: 'reused'; readonly userId: string; readonly familyId: string };

/**
 * Refresh-token families (api.md v1.1, docs/security.md "Refresh tokens"). Written straight
 * to the database, like registration: a refresh changes no live state of the user, so it
 * needs neither the user's owner nor the user's partition.
 *
 * Guarantees:
 * - tokens are found by hash only; the store never sees a token;
 * - `rotate` is atomic and serialised per family on every instance: of two rotations of the
 *   same token at once, exactly one gets `ok: true`; the other finds the token retired and
 *   is handled as reuse (the family is revoked, the winner's successor included);
 * - a rotation whose token is retired (reuse) revokes the family in the same write and
 *   answers `reused`; revoked families stay revoked;
 * - `expired` is checked against the caller's clock (`now`), so tests can move it;
 * - `issue` rejects with USER_NOT_FOUND for a user that does not exist; a deleted user's
 *   families go with the user;
 * - failures of the storage are retriable errors (UNAVAILABLE): callers refuse, never accept.
 */
export interface RefreshTokenStore {
  /**
   * Starts a new family for the user with its first token (at login). The user's families
   * whose every token expired before `now` are deleted in the same write, so the tables
   * stay as large as the live sessions (a reuse after expiry is refused as unknown).
   */
  issue(token: NewRefreshToken & { readonly userId: string; readonly familyId: string; readonly now: number }): Promise<void>;
  /** Retires `tokenHash` and stores `next` in its family, if `tokenHash` is live at `now`. */
  rotate(tokenHash: string, next: NewRefreshToken, now: number): Promise<RotateOutcome>;
  /**
   * Revokes the family of `tokenHash` if it belongs to `userId` (logout); a token of
   * another user, or an unknown one, changes nothing. Idempotent. Resolves whether a live
   * family of the user was revoked by this call.
   */
  revokeFamilyOf(tokenHash: string, userId: string): Promise<boolean>;
}
