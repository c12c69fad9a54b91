import { randomUUID } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { OpenDmBody } from '../../protocol/http-schemas';
import type { ChatStore } from '../../ports/chat-store';
import { authOf } from './authenticate';
import { parseBody } from './validate';

/**
 * POST /api/dms (api.md v1.1): the one direct room of the caller and `userId`, 201 when
 * this call created it, 200 when it existed (also when the other user's call created it a
 * moment ago: the store keeps one room per pair in the database). Both members hear about
 * a new one through the outbox, as a `room` frame with event `created` and kind `dm`.
 */
export function createDmRoutes({
  store,
  auth,
  newId = randomUUID,
  onOutboxWrite,
}: {
  store: ChatStore;
  auth: RequestHandler;
  newId?: () => string;
  onOutboxWrite: () => void;
}): Router {
  const router = Router();
  router.post('/api/dms', auth, async (req, res) => {
    const body = parseBody(OpenDmBody, req.body);
    const { room, created } = await store.openDm({ roomId: newId(), userId: authOf(req).userId, otherUserId: body.userId });
    if (created) onOutboxWrite();
    res.status(created ? 201 : 200).json({ roomId: room.roomId, kind: 'dm', name: room.name, members: room.members });
  });
  return router;
}
