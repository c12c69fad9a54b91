import { z } from 'zod';
import { ClientMsgIdSchema, MAX_TEXT_LENGTH, MessageIdSchema, MessageSchema, ReadSeqSchema, RoomIdSchema } from './message';
import { UserIdSchema } from './envelope-ids';
import { storableString } from './storable-text';

/**
 * WebSocket frames (api.md). Client frames are validated with these schemas at the
 * gateway; a frame that fails gets an `error` frame and the socket stays open. Any field
 * a client adds (a `userId`, say) is stripped: identity comes from the token only.
 */
export const ClientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('send'),
    roomId: RoomIdSchema,
    clientMsgId: ClientMsgIdSchema,
    text: storableString().min(1).max(MAX_TEXT_LENGTH),
  }),
  z.object({
    type: z.literal('resume'),
    rooms: z.record(RoomIdSchema, z.number().int().min(0)).refine((r) => Object.keys(r).length <= 500, 'at most 500 rooms'),
  }),
  z.object({ type: z.literal('typing'), roomId: RoomIdSchema }),
  z.object({ type: z.literal('ping') }),
  // Edit and delete of one's own message (api.md v1.1): stored as a new event in the room's
  // sequence. `clientMsgId` (an extension, docs/architecture.md) makes a retry safe and asks
  // for an `ack`, as for a send.
  z.object({
    type: z.literal('edit'),
    roomId: RoomIdSchema,
    messageId: MessageIdSchema,
    text: storableString().min(1).max(MAX_TEXT_LENGTH),
    clientMsgId: ClientMsgIdSchema.optional(),
  }),
  z.object({ type: z.literal('delete'), roomId: RoomIdSchema, messageId: MessageIdSchema, clientMsgId: ClientMsgIdSchema.optional() }),
  /** Everything in the room up to `seq` is read: moves the user's read cursor (only forward). */
  z.object({ type: z.literal('read'), roomId: RoomIdSchema, seq: ReadSeqSchema }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
/** The client frame types, from the schema (for the `unknown frame type` error). */
export const CLIENT_FRAME_TYPES: readonly string[] = ClientFrameSchema.options.map((o) => o.shape.type.value);

/**
 * What a `room` frame reports: the kinds of room change members hear about. `renamed` and
 * `member.removed` came with v1.1; a `member.removed` frame naming the receiving user as
 * `member` tells it that it left or was removed (the room is gone for it).
 */
export const ROOM_EVENTS = ['created', 'member.added', 'renamed', 'member.removed'] as const;
export type RoomEvent = (typeof ROOM_EVENTS)[number];

/** A group room, or the one direct room of a pair (POST /api/dms). */
export const ROOM_KINDS = ['group', 'dm'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

/**
 * A room as a `room` frame carries it: a snapshot after the change, so a frame seen twice
 * or late still leaves the client with a right member list (it replaces, never patches).
 * `kind` came with v1.1 (absent: a group room).
 */
export const RoomSnapshotSchema = z.object({
  roomId: RoomIdSchema,
  name: z.string(),
  members: z.array(UserIdSchema),
  kind: z.enum(ROOM_KINDS).optional(),
});

/** The most users one `presence.snapshot` may list (the bound of PRESENCE_SNAPSHOT_MAX_USERS). */
export const MAX_SNAPSHOT_USERS = 5_000;

export const ServerFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), userId: UserIdSchema, connectionId: z.string() }),
  z.object({ type: z.literal('ack'), clientMsgId: ClientMsgIdSchema, message: MessageSchema }),
  z.object({ type: z.literal('message'), message: MessageSchema }),
  z.object({ type: z.literal('presence'), userId: UserIdSchema, online: z.boolean() }),
  // Right after `ready` (docs/architecture.md, "Presence snapshot"): the co-members'
  // presence at that moment, at most PRESENCE_SNAPSHOT_MAX_USERS of them.
  z
    .object({
      type: z.literal('presence.snapshot'),
      users: z.array(z.object({ userId: UserIdSchema, online: z.boolean() })).max(MAX_SNAPSHOT_USERS),
    })
    .describe(
      'Right after `ready`: the presence of the members of the user’s rooms (not the user), the first ' +
        'PRESENCE_SNAPSHOT_MAX_USERS by userId; users not listed are unknown. Left out when the server cannot ' +
        'tell (its session directory is unavailable). Later changes come as `presence`; one that arrives after ' +
        '`ready` but before the snapshot is the newer for its user.',
    ),
  z.object({ type: z.literal('typing'), roomId: RoomIdSchema, userId: UserIdSchema }),
  z.object({ type: z.literal('announcement'), text: z.string() }),
  // A room change made through REST (docs/architecture.md, "Outbox"): `id` is the change's
  // id, the same for every member and on every redelivery, so a client can drop repeats.
  z.object({
    type: z.literal('room'),
    id: z.string().min(1).max(100),
    event: z.enum(ROOM_EVENTS),
    room: RoomSnapshotSchema,
    /** Who made the change. */
    by: UserIdSchema,
    /** The member added (event member.added) or removed (event member.removed). */
    member: UserIdSchema.optional(),
  }),
  // The user's own read cursor moved (from another of its sockets, or REST).
  z.object({ type: z.literal('read'), roomId: RoomIdSchema, seq: ReadSeqSchema }),
  // Another member has read the room up to `seq` (not sent in rooms over RECEIPTS_MAX_ROOM_MEMBERS).
  z.object({ type: z.literal('receipt'), roomId: RoomIdSchema, userId: UserIdSchema, seq: ReadSeqSchema }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string(), ref: z.string().optional() }),
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/**
 * A server frame's JSON, made once per frame object: a relayed or broadcast frame goes to
 * several connections (one user's tabs, every socket for an announcement) and each would
 * otherwise serialise the same object again. Frames are never mutated after they are made,
 * so the cached text stays right; the WeakMap lets it go with the frame.
 */
const serialized = new WeakMap<ServerFrame, string>();
export function frameJson(frame: ServerFrame): string {
  let json = serialized.get(frame);
  if (json === undefined) {
    json = JSON.stringify(frame);
    serialized.set(frame, json);
  }
  return json;
}
