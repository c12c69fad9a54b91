import { Router, type RequestHandler } from 'express';
import { MemberPathParams, RenameRoomBody, RoomPathParams } from '../../protocol/http-schemas';
import type { ChatStore } from '../../ports/chat-store';
import { authOf } from './authenticate';
import { parseBody } from './validate';

/**
 * PATCH /api/rooms/:roomId (rename, by a member) and DELETE
 * /api/rooms/:roomId/members/:userId (leave, or the creator removes someone), api.md
 * v1.1. The store checks and changes in one transaction with the outbox rows that tell
 * the members (and the removed user) as `room` frames; a direct room refuses both (409
 * ROOM_IS_DM). A removal is in force once the 204 is sent: the store serialises it with
 * the room's appends, and every later send, typing notice, resume and history read checks
 * membership afresh.
 */
export function createRoomMembershipRoutes({
  store,
  auth,
  onOutboxWrite,
}: {
  store: ChatStore;
  auth: RequestHandler;
  onOutboxWrite: () => void;
}): Router {
  const router = Router();

  router.patch('/api/rooms/:roomId', auth, async (req, res) => {
    const { roomId } = parseBody(RoomPathParams, req.params);
    const body = parseBody(RenameRoomBody, req.body);
    const room = await store.renameRoom(roomId, authOf(req).userId, body.name);
    onOutboxWrite();
    res.json({ roomId: room.roomId, name: room.name, members: room.members, lastSeq: room.lastSeq, kind: room.kind });
  });

  router.delete('/api/rooms/:roomId/members/:userId', auth, async (req, res) => {
    const { roomId, userId } = parseBody(MemberPathParams, req.params);
    const by = authOf(req).userId;
    await store.removeMember(roomId, by, userId);
    onOutboxWrite();
    req.log.info({ roomId, member: userId, by }, by === userId ? 'room left' : 'room member removed');
    res.status(204).end();
  });

  return router;
}
