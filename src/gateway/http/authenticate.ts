import type { Request, RequestHandler } from 'express';
import { ChatError } from '../../domain/errors';
import type { TokenClaims, TokenService } from '../../auth/token-service';
import type { RevocationStore } from '../../ports/revocation-store';

declare module 'express-serve-static-core' {
  interface Request {
    auth?: TokenClaims;
  }
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Verifies a token and checks revocation; throws 401 with a stable code. */
export async function authenticateToken(
  token: string | undefined,
  tokens: TokenService,
  revocations: RevocationStore,
): Promise<TokenClaims> {
  if (token === undefined) throw new ChatError('UNAUTHORIZED', 'missing bearer token');
  const claims = tokens.verify(token);
  if (await revocations.isRevoked(claims.jti)) throw new ChatError('TOKEN_REVOKED', 'token revoked');
  return claims;
}

/** Express middleware: `req.auth` from a verified, unrevoked bearer token, or 401. */
export function requireAuth(tokens: TokenService, revocations: RevocationStore): RequestHandler {
  return async (req, _res, next) => {
    try {
      req.auth = await authenticateToken(bearerToken(req.headers.authorization), tokens, revocations);
      req.log = req.log.child({ userId: req.auth.userId });
      next();
    } catch (error) {
      next(error);
    }
  };
}

export function authOf(req: Request): TokenClaims {
  if (req.auth === undefined) throw new ChatError('UNAUTHORIZED', 'not authenticated');
  return req.auth;
}
