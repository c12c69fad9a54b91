import { Router } from 'express';
import { z } from 'zod';
import { ChatError } from '../../domain/errors';
import { makeRecord } from '../../protocol/envelope';
import type { TokenService } from '../../auth/token-service';
import type { Bus } from '../../ports/bus';
import type { RevocationStore } from '../../ports/revocation-store';
import { authOf, requireAuth } from './authenticate';
import { parseBody } from './validate';

export const AnnouncementBody = z.strictObject({ text: z.string().trim().min(1).max(2_000) });

/**
 * Admin endpoints. An admin is a user listed in ADMIN_USER_IDS, identified by a verified
 * token like anyone else. POST /api/admin/announcements puts `{type:"announcement", text}`
 * on the broadcast topic, which every instance reads and relays to all its connections.
 */
export function createAdminRoutes({
  bus,
  broadcastTopic,
  adminUserIds,
  tokens,
  revocations,
}: {
  bus: Bus;
  broadcastTopic: string;
  adminUserIds: readonly string[];
  tokens: TokenService;
  revocations: RevocationStore;
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
  return router;
}
