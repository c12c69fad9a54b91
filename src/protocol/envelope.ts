import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UserIdSchema } from './envelope-ids';
import { ServerFrameSchema } from './frames';
import { ClientMsgIdSchema, MAX_TEXT_LENGTH, MessageIdSchema, ReadSeqSchema, RoomIdSchema } from './message';

/**
 * The one versioned envelope every Kafka record carries: `{ v, id, type, userId, ts,
 * payload }`. `type` discriminates `payload`. Records are validated with these schemas at
 * every boundary (produce and consume); a record that fails is never retried: it goes to
 * the dead-letter topic. Routing metadata (correlation id, reply topic) lives in headers.
 */
export const ENVELOPE_VERSION = 1;

export { UserIdSchema };

const PublicUserSchema = z.object({ userId: UserIdSchema, displayName: z.string() });

const base = <T extends string, P extends z.ZodType>(type: T, payload: P) =>
  z.object({
    v: z.literal(ENVELOPE_VERSION),
    id: z.string().min(1).max(100),
    type: z.literal(type),
    userId: UserIdSchema,
    ts: z.number().int().nonnegative(),
    payload,
  });

/** Records on the request topics (login-request, chat-request), keyed by userId. */
export const LoginRequestRecord = base(
  'login.request',
  // The password travels sealed (AES-256-GCM with a cluster key), never in clear on Kafka.
  z.object({ sealedPassword: z.string().min(1).max(1024) }),
);
const ConnectionRef = { instanceId: z.string().min(1).max(100), connectionId: z.string().min(1).max(100) };

/** A socket (or SSE stream) opened or closed on a gateway. */
export const SessionOpenedRecord = base('session.opened', z.object({ ...ConnectionRef, reannounce: z.boolean().optional() }));
export const SessionClosedRecord = base('session.closed', z.object(ConnectionRef));
/**
 * The owner's own timer asks it, through the user's partition, to forget the user's
 * sessions that stopped being re-announced (owner/session-expiry.ts). No payload: the
 * handler decides by its clock when the record is handled, so a late or repeated one is
 * harmless.
 */
export const SessionExpireRecord = base('session.expire', z.object({}));
/** A `send` frame, keyed by the sender. */
export const ChatSendRecord = base(
  'chat.send',
  z.object({ ...ConnectionRef, roomId: RoomIdSchema, clientMsgId: ClientMsgIdSchema, text: z.string().min(1).max(MAX_TEXT_LENGTH) }),
);
/**
 * An `edit` or `delete` frame, keyed by the sender: stored by the sender's owner as a new
 * event in the room's sequence. Without a clientMsgId the event's idempotency key is made
 * from this record's id, so a redelivered record still stores it once.
 */
export const ChatEditRecord = base(
  'chat.edit',
  z.object({
    ...ConnectionRef,
    roomId: RoomIdSchema,
    messageId: MessageIdSchema,
    text: z.string().min(1).max(MAX_TEXT_LENGTH),
    clientMsgId: ClientMsgIdSchema.optional(),
  }),
);
export const ChatDeleteRecord = base(
  'chat.delete',
  z.object({ ...ConnectionRef, roomId: RoomIdSchema, messageId: MessageIdSchema, clientMsgId: ClientMsgIdSchema.optional() }),
);
/** A `typing` frame, keyed by the typist. */
export const ChatTypingRecord = base('chat.typing', z.object({ ...ConnectionRef, roomId: RoomIdSchema }));
/**
 * A `read` frame or POST /api/rooms/:roomId/read, keyed by the reader: the reader's owner
 * moves the read cursor (only forward). From a socket it names the connection (which gets
 * an error frame if refused, and no `read` echo); from REST it has none and carries
 * reply headers instead (answered with `chat.read.reply`).
 */
export const ChatReadRecord = base(
  'chat.read',
  z.object({
    roomId: RoomIdSchema,
    seq: ReadSeqSchema,
    instanceId: ConnectionRef.instanceId.optional(),
    connectionId: ConnectionRef.connectionId.optional(),
  }),
);
/**
 * A frame for one user's live sockets, keyed by that user (the recipient), produced by
 * another user's owner: a stored message, a presence change, a typing notice. The
 * recipient's owner relays it to the instances that hold the recipient's sockets.
 */
export const DeliverRecord = base('deliver', z.object({ frame: ServerFrameSchema, exceptConnectionId: z.string().optional() }));

export const RequestRecordSchema = z.discriminatedUnion('type', [
  LoginRequestRecord,
  SessionOpenedRecord,
  SessionClosedRecord,
  SessionExpireRecord,
  ChatSendRecord,
  ChatEditRecord,
  ChatDeleteRecord,
  ChatTypingRecord,
  ChatReadRecord,
  DeliverRecord,
]);
export type RequestRecord = z.infer<typeof RequestRecordSchema>;

/** Records on an instance's inbox topic: replies and relays aimed at that instance. */
export const LoginReplyRecord = base(
  'login.reply',
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), user: PublicUserSchema, handledBy: z.string(), partition: z.number().int() }),
    z.object({ ok: z.literal(false), code: z.string(), message: z.string(), handledBy: z.string() }),
  ]),
);
/** The reader's owner's answer to a `chat.read` from REST: the cursor after it, or why it was refused. */
export const ChatReadReplyRecord = base(
  'chat.read.reply',
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), lastReadSeq: ReadSeqSchema }),
    z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
  ]),
);
const RelayPart = z.object({ connectionIds: z.array(z.string().min(1)).min(1).max(1000), frame: ServerFrameSchema });
/** A frame for some of this instance's connections (keyed by the user they belong to). */
export const RelayRecord = base('relay', RelayPart);
/**
 * Several frames for this instance's connections, written in this order: what one request
 * record sends to one instance (a sender's ack and a message for the members whose
 * sockets it holds), so it costs one Kafka record, not one per frame. Keyed by the user
 * whose request caused it.
 */
export const RelayBatchRecord = base('relay.batch', z.object({ parts: z.array(RelayPart).min(1).max(100) }));
export type RelayPart = z.infer<typeof RelayPart>;
/** A frame for every connection on every instance (the broadcast topic). */
export const BroadcastRecord = base('broadcast', z.object({ frame: ServerFrameSchema }));
/** A token was revoked (logout): every instance closes the connections opened with it (4001). */
export const TokenRevokedRecord = base('token.revoked', z.object({ jti: z.string().min(1).max(100) }));

/**
 * The user's owner refused a new socket (a per-user cap across instances): the instance
 * that holds it closes it with 4008 and this reason. Keyed by the user.
 */
export const SessionRefusedRecord = base(
  'session.refused',
  z.object({ connectionId: z.string().min(1).max(100), reason: z.string().min(1).max(120) }),
);

export const InboxRecordSchema = z.discriminatedUnion('type', [
  LoginReplyRecord,
  ChatReadReplyRecord,
  RelayRecord,
  RelayBatchRecord,
  BroadcastRecord,
  TokenRevokedRecord,
  SessionRefusedRecord,
]);
export type InboxRecord = z.infer<typeof InboxRecordSchema>;

/**
 * The Kafka bus's own notices about inbox topics, on the broadcast topic, read by the bus
 * of every instance and never handed to the gateway (adapters/kafka/kafka-bus.ts): an
 * inbox is about to be deleted (its instance stopped, or the janitor found it gone), so
 * records for it are dropped from now on instead of failing the batches they share; or an
 * inbox (re)opened under an id once retired. Keyed by BUS_NOTICE_USER_ID.
 */
export const InboxRetiredRecord = base('inbox.retired', z.object({ instanceId: z.string().min(1).max(100) }));
export const InboxOpenedRecord = base('inbox.opened', z.object({ instanceId: z.string().min(1).max(100) }));
/** The envelope's userId of the bus's notices, which no user sent. */
export const BUS_NOTICE_USER_ID = '_bus';
/** What an inbox consumer reads: the gateway's records and the bus's notices. */
export const InboxTopicRecordSchema = z.discriminatedUnion('type', [...InboxRecordSchema.options, InboxRetiredRecord, InboxOpenedRecord]);
export type InboxTopicRecord = z.infer<typeof InboxTopicRecordSchema>;
export type InboxNoticeRecord = z.infer<typeof InboxRetiredRecord> | z.infer<typeof InboxOpenedRecord>;
export const isInboxNotice = (record: InboxTopicRecord): record is InboxNoticeRecord =>
  record.type === 'inbox.retired' || record.type === 'inbox.opened';

/** Every record: the request topics' and the inboxes' (derived, so neither list is repeated). */
export const AnyRecordSchema = z.discriminatedUnion('type', [...RequestRecordSchema.options, ...InboxTopicRecordSchema.options]);
export type AnyRecord = z.infer<typeof AnyRecordSchema>;
export type RecordType = AnyRecord['type'];
export type RecordOf<T extends RecordType> = Extract<AnyRecord, { type: T }>;

/** Builds a record with a fresh id and timestamp. */
export function makeRecord<T extends RecordType>(
  type: T,
  userId: string,
  payload: RecordOf<T>['payload'],
  now: () => number = Date.now,
): RecordOf<T> {
  return { v: ENVELOPE_VERSION, id: randomUUID(), type, userId, ts: now(), payload } as RecordOf<T>;
}
