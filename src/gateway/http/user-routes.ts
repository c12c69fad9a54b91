import { Router } from 'express';
import type { TokenService } from '../../auth/token-service';
import { ChatError } from '../../domain/errors';
import type { Metrics } from '../../observability/metrics';
import type { ChatStore } from '../../ports/chat-store';
import type { RateWindow } from '../../ports/rate-window';
import type { RevocationStore } from '../../ports/revocation-store';
import { UserSearchQuery } from '../../protocol/http-schemas';
import { authOf, requireAuth } from './authenticate';
import { parseBody } from './validate';

/**
 * GET /api/users?q=&limit= (api.md v1.1): find people to add to a room or to write to.
 * A prefix match on userId or displayName, ignoring case, in userId order
 * (ChatStore.searchUsers). Bounded (q 1..64 characters, limit ≤ 50) and throttled per user
 * through the shared RateWindow (USER_SEARCH_MAX_PER_WINDOW per USER_SEARCH_WINDOW_SECONDS),
 * so the user list cannot be walked quickly by one account. A query the validation refuses
 * costs no hit.
 */
export function createUserRoutes({
  store,
  tokens,
  revocations,
  searches,
  metrics,
}: {
  store: ChatStore;
  tokens: TokenService;
  revocations: RevocationStore;
  /** Searches per user per window. */
  searches: RateWindow;
  metrics: Metrics;
}): Router {
  const router = Router();
  const auth = requireAuth(tokens, revocations);

  router.get('/api/users', auth, async (req, res) => {
    const query = parseBody(UserSearchQuery, req.query);
    const { userId } = authOf(req);
    const admission = await searches.hit(userId);
    if (!admission.allowed) {
      metrics.securityRefusals.inc({ reason: 'user_search_throttled' });
      throw new ChatError('RATE_LIMITED', 'too many searches; try again later', {
        details: { retryAfterSeconds: Math.ceil(admission.retryAfterMs / 1000) },
      });
    }
    res.json({ users: await store.searchUsers(query.q, query.limit) });
  });

  return router;
}
