import { createSecretKey, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ChatError } from '../domain/errors';

/**
 * JWT issue and verify. Verification pins the algorithm list (HS256 only), so `alg: none`
 * and algorithm-confusion tokens are refused by the library before any claim is read, and
 * checks issuer, audience and expiry. Identity comes only from a verified token's `sub`.
 */
export const JWT_ALGORITHM = 'HS256' as const;

export interface TokenClaims {
  readonly userId: string;
  /** Token id: what logout revokes. */
  readonly jti: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

export interface TokenService {
  issue(userId: string): { token: string; expiresIn: number; claims: TokenClaims };
  /** Throws ChatError UNAUTHORIZED or TOKEN_EXPIRED. Does not check revocation. */
  verify(token: string): TokenClaims;
}

export function createTokenService({
  secret,
  issuer,
  audience,
  ttlSeconds = 3600,
}: {
  secret: string;
  issuer: string;
  audience: string;
  /** Token lifetime. Default one hour. */
  ttlSeconds?: number;
}): TokenService {
  // A KeyObject made once: given the secret as a string, jsonwebtoken tries to parse it as
  // a PEM key on every sign and verify (createPrivateKey / createPublicKey, which throw)
  // before falling back to an HMAC key, which showed in CPU profiles of the login path.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    issue(userId) {
      const jti = randomUUID();
      const token = jwt.sign({}, key, {
        algorithm: JWT_ALGORITHM,
        subject: userId,
        jwtid: jti,
        issuer,
        audience,
        expiresIn: ttlSeconds,
      });
      const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
      return { token, expiresIn: ttlSeconds, claims: { userId, jti, exp } };
    },
    verify(token) {
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, key, { algorithms: [JWT_ALGORITHM], issuer, audience });
      } catch (error) {
        if (error instanceof jwt.TokenExpiredError) throw new ChatError('TOKEN_EXPIRED', 'token expired');
        throw new ChatError('UNAUTHORIZED', 'invalid token');
      }
      if (
        typeof payload === 'string' ||
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number'
      ) {
        throw new ChatError('UNAUTHORIZED', 'invalid token');
      }
      return { userId: payload.sub, jti: payload.jti, exp: payload.exp };
    },
  };
}
