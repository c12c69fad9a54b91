import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { toStoreError } from './prisma-errors';
import type { RefreshTokenStore, RotateOutcome } from '../../ports/refresh-token-store';

/** The family row a rotation locks. */
interface FamilyLockRow {
  readonly user_id: string;
  readonly revoked_at: Date | string | null;
}

/**
 * Refresh-token families on the `refresh_token_families` and `refresh_tokens` tables.
 *
 * A rotation locks its family's row (SELECT ... FOR UPDATE) before it reads the token's
 * state, so rotations of one family, and a revocation racing one, run one after the other
 * on every instance: the second of two refreshes with one token waits, then reads the
 * token as retired (READ COMMITTED reads the winner's commit) and revokes the family. The
 * reuse answer is returned, not thrown, so the revocation commits.
 */
export function createPrismaRefreshTokenStore({
  prisma,
  transaction,
}: {
  /** For single statements (issue). */
  prisma: Pick<PrismaClient, '$executeRaw'>;
  /** Runs a transaction with the store's limits, its failure mapped to a ChatError. */
  transaction: <T>(what: string, body: (tx: Prisma.TransactionClient) => Promise<T>) => Promise<T>;
}): RefreshTokenStore {
  return {
    async issue({ tokenHash, familyId, userId, expiresAt, now }) {
      // One statement: atomic on its own and one round trip. WHY: every login issues a
      // token, and as an interactive transaction (BEGIN, a user check, Prisma's select and
      // delete of dead families, two inserts and a read-back, COMMIT) it was most of a
      // login's database work (docs/benchmarks.md, "logins"). An unknown user fails the
      // family's foreign key. The families the user has with no token left alive go in the
      // same statement: nothing of them can work any more.
      try {
        await prisma.$executeRaw`/* prepared: issue_refresh_token */
          WITH dead AS (
            DELETE FROM refresh_token_families f
            WHERE f.user_id = ${userId}
              AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at > ${new Date(now)})
          ), family AS (
            INSERT INTO refresh_token_families (id, user_id) VALUES (${familyId}, ${userId}) RETURNING id
          )
          INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
          SELECT ${tokenHash}, family.id, ${new Date(expiresAt)} FROM family`;
      } catch (error) {
        throw toStoreError(error, 'issue refresh token');
      }
    },

    async rotate(tokenHash, next, now) {
      return transaction('rotate refresh token', async (tx): Promise<RotateOutcome> => {
        const found = await tx.refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true } });
        if (found === null) return { ok: false, reason: 'unknown' };
        const { familyId } = found;
        const [family] = await tx.$queryRaw<FamilyLockRow[]>`
          SELECT user_id, revoked_at FROM refresh_token_families WHERE id = ${familyId} FOR UPDATE`;
        // Read again under the lock: a rotation that held it before us has committed by now.
        const token = await tx.refreshToken.findUnique({ where: { tokenHash }, select: { usedAt: true, expiresAt: true } });
        if (family === undefined || token === null) return { ok: false, reason: 'unknown' };
        const userId = family.user_id;
        if (family.revoked_at !== null) return { ok: false, reason: 'revoked' };
        if (token.usedAt !== null) {
          await tx.refreshTokenFamily.update({ where: { id: familyId }, data: { revokedAt: new Date(now) } });
          return { ok: false, reason: 'reused', userId, familyId };
        }
        if (token.expiresAt.getTime() <= now) return { ok: false, reason: 'expired' };
        await tx.refreshToken.update({ where: { tokenHash }, data: { usedAt: new Date(now) } });
        await tx.refreshToken.create({ data: { tokenHash: next.tokenHash, familyId, expiresAt: new Date(next.expiresAt) } });
        return { ok: true, userId, familyId };
      });
    },

    async revokeFamilyOf(tokenHash, userId) {
      return transaction('revoke refresh token family', async (tx) => {
        const { count } = await tx.refreshTokenFamily.updateMany({
          where: { userId, revokedAt: null, tokens: { some: { tokenHash } } },
          data: { revokedAt: new Date() },
        });
        return count > 0;
      });
    },
  };
}
