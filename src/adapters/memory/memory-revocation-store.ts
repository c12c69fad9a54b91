import type { RevocationStore } from '../../ports/revocation-store';

/** In-process revocations: the single-process default and unit tests. */
export function createMemoryRevocationStore({ now = () => Date.now() }: { now?: () => number } = {}): RevocationStore {
  const revoked = new Map<string, number>();
  return {
    async revoke(jti, expiresAt) {
      revoked.set(jti, expiresAt);
    },
    async isRevoked(jti) {
      const exp = revoked.get(jti);
      if (exp === undefined) return false;
      if (exp * 1000 <= now()) {
        revoked.delete(jti);
        return false;
      }
      return true;
    },
    async health() {
      return { ok: true, detail: 'in-memory' };
    },
  };
}
