import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The one versioned envelope every Kafka record carries: `{ v, id, type, userId, ts,
 * payload }`. `type` discriminates `payload`. Records are validated with these schemas at
 * every boundary (produce and consume); a record that fails is never retried: it goes to
 * the dead-letter topic. Routing metadata (correlation id, reply topic) lives in headers.
 */
export const ENVELOPE_VERSION = 1;

export const UserIdSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');

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
export const SessionOpenedRecord = base(
  'session.opened',
  z.object({ instanceId: z.string().min(1), connectionId: z.string().min(1) }),
);
export const SessionClosedRecord = base(
  'session.closed',
  z.object({ instanceId: z.string().min(1), connectionId: z.string().min(1) }),
);

export const RequestRecordSchema = z.discriminatedUnion('type', [
  LoginRequestRecord,
  SessionOpenedRecord,
  SessionClosedRecord,
]);
export type RequestRecord = z.infer<typeof RequestRecordSchema>;

/** Records on an instance's inbox topic: replies and deliveries aimed at that instance. */
export const LoginReplyRecord = base(
  'login.reply',
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), user: PublicUserSchema, handledBy: z.string(), partition: z.number().int() }),
    z.object({ ok: z.literal(false), code: z.string(), message: z.string(), handledBy: z.string() }),
  ]),
);

export const InboxRecordSchema = z.discriminatedUnion('type', [LoginReplyRecord]);
export type InboxRecord = z.infer<typeof InboxRecordSchema>;

export const AnyRecordSchema = z.discriminatedUnion('type', [
  LoginRequestRecord,
  SessionOpenedRecord,
  SessionClosedRecord,
  LoginReplyRecord,
]);
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
