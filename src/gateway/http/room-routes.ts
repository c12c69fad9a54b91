import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { ChatError } from '../../domain/errors';
import { AddMemberBody, CreateRoomBody, MessagesQuery, ReadBody, RoomPathParams, RoomsQuery } from '../../protocol/http-schemas';
import { makeRecord } from '../../protocol/envelope';
import { isErrorCode } from '../../protocol/error-codes';
import type { RequestReply } from '../request-reply';
import type { TokenService } from '../../auth/token-service';
import type { ChatStore } from '../../ports/chat-store';
import type { RevocationStore } from '../../ports/revocation-store';
import { authOf, requireAuth } from './authenticate';
import { createDmRoutes } from './dm-routes';
import { decodeRoomCursor, encodeRoomCursor } from './room-cursor';
import { createRoomMembershipRoutes } from './room-membership-routes';
import { parseBody } from './validate';

export interface RoomRoutesOptions {
  store: ChatStore;
  tokens: TokenService;
  revocations: RevocationStore;
  /** Makes the id of a new room. Default randomUUID. */
  newId?: () => string;
  /** Called after a change that wrote outbox rows has committed (the outbox relay's nudge). */
  onOutboxWrite?: () => void;
  /** Request-reply to the users' owners (a read cursor is moved by its owner: POST /api/rooms/:roomId/read). */
  requestReply: RequestReply;
  /** The topic of `chat.read` records (keyed by the reader). */
  chatTopic: string;
}

/** GET /api/rooms's read state of a room: the caller's cursor (0: none) and what is unread after it, never negative. */
export const readStateOf = (lastSeq: number, cursor: number | undefined): { lastReadSeq: number; unread: number } => {
  const lastReadSeq = cursor ?? 0;
  return { lastReadSeq, unread: Math.max(0, lastSeq - lastReadSeq) };
};

/**
 * POST/GET /api/rooms, POST /api/rooms/:roomId/members, POST /api/rooms/:roomId/read and
 * GET /api/rooms/:roomId/messages (api.md), with POST /api/dms (dm-routes.ts) and the
 * rename and removal routes (room-membership-routes.ts). Rooms are plain database state:
 * these go to the store directly, not over Kafka; a read cursor is per-user state, so
 * POST …/read goes to the reader's owner over Kafka and waits for its answer. Every route
 * needs a bearer token. Members hear about a new room or member through the outbox the
 * store writes in the same transaction (`room` frames), relayed to Kafka by the outbox
 * relay, which these routes nudge.
 */
export function createRoomRoutes({
  store,
  tokens,
  revocations,
  newId = randomUUID,
  onOutboxWrite = () => undefined,
  requestReply,
  chatTopic,
}: RoomRoutesOptions): Router {
  const router = Router();
  const auth = requireAuth(tokens, revocations);
  router.use(createDmRoutes({ store, auth, newId, onOutboxWrite }));
  router.use(createRoomMembershipRoutes({ store, auth, onOutboxWrite }));

  router.post('/api/rooms', auth, async (req, res) => {
    const body = parseBody(CreateRoomBody, req.body);
    const room = await store.createRoom({ roomId: newId(), name: body.name, createdBy: authOf(req).userId, members: body.members ?? [] });
    onOutboxWrite();
    res.status(201).json({ roomId: room.roomId, name: room.name, members: room.members });
  });

  router.get('/api/rooms', auth, async (req, res) => {
    const { cursor, limit } = parseBody(RoomsQuery, req.query);
    const userId = authOf(req).userId;
    // One more than the page: whether a next page exists, without a count query.
    const rooms = await store.listRooms(userId, {
      ...(cursor === undefined ? {} : { afterRoomId: decodeRoomCursor(cursor) }),
      limit: limit + 1,
    });
    const page = rooms.slice(0, limit);
    const last = page[page.length - 1];
    const cursors = await store.readCursors(
      userId,
      page.map((r) => r.roomId),
    );
    res.json({
      rooms: page.map((r) => ({
        roomId: r.roomId,
        name: r.name,
        members: r.members,
        lastSeq: r.lastSeq,
        kind: r.kind,
        ...readStateOf(r.lastSeq, cursors.get(r.roomId)),
      })),
      ...(rooms.length > limit && last !== undefined ? { nextCursor: encodeRoomCursor(last.roomId) } : {}),
    });
  });

  router.post('/api/rooms/:roomId/members', auth, async (req, res) => {
    const { roomId } = parseBody(RoomPathParams, req.params);
    const body = parseBody(AddMemberBody, req.body);
    const added = await store.addMember(roomId, authOf(req).userId, body.userId);
    if (added) onOutboxWrite();
    req.log.info({ roomId, member: body.userId, added }, 'room member added');
    res.status(204).end();
  });

  // The reader's owner is the single writer of read cursors, so REST asks it (request-reply,
  // like login) instead of writing the store here: the owner checks the room, the
  // membership and the room's last seq in the statement that moves the cursor, tells the
  // user's sockets and the other members, and answers; a 204 therefore means the cursor is
  // stored and GET /api/rooms shows it (docs/architecture.md, "Read cursors and receipts").
  router.post('/api/rooms/:roomId/read', auth, async (req, res) => {
    const { roomId } = parseBody(RoomPathParams, req.params);
    const { seq } = parseBody(ReadBody, req.body);
    const { userId } = authOf(req);
    const reply = await requestReply.request(chatTopic, makeRecord('chat.read', userId, { roomId, seq }));
    if (reply.type !== 'chat.read.reply') throw new ChatError('INTERNAL', `unexpected reply ${reply.type}`);
    const result = reply.payload;
    if (!result.ok) throw new ChatError(isErrorCode(result.code) ? result.code : 'INTERNAL', result.message);
    res.status(204).end();
  });

  router.get('/api/rooms/:roomId/messages', auth, async (req, res) => {
    const { roomId } = parseBody(RoomPathParams, req.params);
    const query = parseBody(MessagesQuery, req.query);
    const members = await store.roomMembers(roomId);
    if (members === undefined) throw new ChatError('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
    if (!members.includes(authOf(req).userId)) throw new ChatError('NOT_A_MEMBER', `not a member of room ${roomId}`);
    res.json({ messages: await store.listMessages(roomId, query) });
  });

  return router;
}
