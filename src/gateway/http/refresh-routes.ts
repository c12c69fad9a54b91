import { Router } from 'express';
import type { RefreshTokens } from '../../auth/refresh-tokens';
import type { TokenService } from '../../auth/token-service';
import type { Metrics } from '../../observability/metrics';
import { RefreshBody } from '../../protocol/http-schemas';
import { parseBody } from './validate';

/**
 * POST /api/auth/refresh (api.md v1.1): a live refresh token buys a new access token and
 * its own successor. Straight to the database, like registration (docs/architecture.md,
 * "Sessions that last"): a refresh changes no live state of the user, needs no password
 * check, and so neither the user's owner nor a record on the user's partition.
 */
export function createRefreshRoutes({
  tokens,
  refreshTokens,
  metrics,
}: {
  tokens: TokenService;
  refreshTokens: RefreshTokens;
  metrics: Metrics;
}): Router {
  const router = Router();
  router.post('/api/auth/refresh', async (req, res) => {
    const body = parseBody(RefreshBody, req.body);
    const rotated = await refreshTokens.rotate(body.refreshToken, (refusal) => {
      metrics.securityRefusals.inc({ reason: `refresh_${refusal.reason}` });
      if (refusal.reason === 'reused') {
        // A retired token came back: someone holds a copy. The whole family is revoked.
        req.log.warn({ userId: refusal.userId, family: refusal.familyId }, 'refresh token reused: family revoked');
      } else req.log.info({ reason: refusal.reason }, 'refresh refused');
    });
    const issued = tokens.issue(rotated.userId);
    req.log.info({ userId: rotated.userId }, 'token refreshed');
    res.status(200).json({
      token: issued.token,
      expiresIn: issued.expiresIn,
      refreshToken: rotated.refreshToken,
      refreshExpiresIn: rotated.refreshExpiresIn,
    });
  });
  return router;
}
