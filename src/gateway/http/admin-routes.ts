import { Router } from 'express';
import { ChatError } from '../../domain/errors';
import { makeRecord } from '../../protocol/envelope';
import type { TokenService } from '../../auth/token-service';
import type { Bus } from '../../ports/bus';
import type { RevocationStore } from '../../ports/revocation-store';
import type { ClusterViewService } from '../cluster-view';
import { authOf, requireAuth } from './authenticate';
import { parseBody } from './validate';
import { AnnouncementBody } from '../../protocol/http-schemas';

/**
 * Admin endpoints. An admin is a user listed in ADMIN_USER_IDS, identified by a verified
 * token like anyone else. POST /api/admin/announcements puts `{type:"announcement", text}`
 * on the broadcast topic, which every instance reads and relays to all its connections.
 * GET /api/admin/cluster answers the cluster view (src/gateway/cluster-view.ts): this
 * instance's view taken now, and the others' as they last announced them.
 */
export function createAdminRoutes({
  bus,
  broadcastTopic,
  adminUserIds,
  tokens,
  revocations,
  cluster,
}: {
  bus: Bus;
  broadcastTopic: string;
  adminUserIds: readonly string[];
  tokens: TokenService;
  revocations: RevocationStore;
  /** Backs GET /api/admin/cluster; without it the route is not served. */
  cluster?: ClusterViewService;
}): Router {
  const router = Router();
  const admins = new Set(adminUserIds);
  const requireAdmin = requireAuth(tokens, revocations);
  router.post('/api/admin/announcements', requireAdmin, async (req, res) => {
    const { userId } = authOf(req);
    if (!admins.has(userId)) throw new ChatError('FORBIDDEN', 'admin only');
    const { text } = parseBody(AnnouncementBody, req.body);
    const record = makeRecord('broadcast', userId, { frame: { type: 'announcement', text } });
    await bus.publish([{ topic: broadcastTopic, key: userId, record }]);
    req.log.info({ announcement: record.id }, 'announcement published');
    res.status(202).json({ id: record.id });
  });
  if (cluster !== undefined) {
    router.get('/api/admin/cluster', requireAdmin, async (req, res) => {
      if (!admins.has(authOf(req).userId)) throw new ChatError('FORBIDDEN', 'admin only');
      res.json(await cluster.cluster());
    });
  }
  return router;
}
