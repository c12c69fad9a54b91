import { z } from 'zod';
import { ClientMsgIdSchema, MAX_TEXT_LENGTH, MessageSchema, ReadSeqSchema, RoomIdSchema } from './message';
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
  /** Everything in the room up to `seq` is read: moves the user's read cursor (only forward). */
  z.object({ type: z.literal('read'), roomId: RoomIdSchema, seq: ReadSeqSchema }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
/** The client frame types, from the schema (for the `unknown frame type` error). */
export const CLIENT_FRAME_TYPES: readonly string[] = ClientFrameSchema.options.map((o) => o.shape.type.value);

/** What a `room` frame reports: the kinds of room change members hear about. */
export const ROOM_EVENTS = ['created', 'member.added'] as const;
export type RoomEvent = (typeof ROOM_EVENTS)[number];

/**
 * A room as a `room` frame carries it: a snapshot after the change, so a frame seen twice
 * or late still leaves the client with a right member list (it replaces, never patches).
 */
export const RoomSnapshotSchema = z.object({ roomId: RoomIdSchema, name: z.string(), members: z.array(UserIdSchema) });

export const ServerFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), userId: UserIdSchema, connectionId: z.string() }),
  z.object({ type: z.literal('ack'), clientMsgId: ClientMsgIdSchema, message: MessageSchema }),
  z.object({ type: z.literal('message'), message: MessageSchema }),
  z.object({ type: z.literal('presence'), userId: UserIdSchema, online: z.boolean() }),
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
    /** The member added (event member.added). */
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
