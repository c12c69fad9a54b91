import { takeToken } from '../domain/token-bucket';
import type { RecordOf } from '../protocol/envelope';
import { ensureUser, relay, type Inbound, type OwnerContext } from './owner-context';
import { publishAppended } from './appended-output';

/**
 * chat.edit and chat.delete at the sender's owner (api.md v1.1): the change is a new event
 * in the room's sequence, so it takes the send's path — the same rate limit (one token),
 * the same batched append, which checks in its own statement that the sender may change
 * the message (domain/message-change.ts) and marks the original, and the same output
 * (owner/appended-output.ts): every member's sockets get the event as a `message` with
 * `edits` (and `deleted`), and order, resume, history and gap-fill carry it like any
 * message.
 *
 * Idempotency: the event's key is (sender, clientMsgId). A client that gives a clientMsgId
 * gets an `ack` with the event, and the same ack again on a retry; without one the key is
 * the record's id (also the event's id), so a redelivered record stores the event once, and
 * the requesting socket gets the `message` instead of an ack. Refusals' `ref` is the
 * clientMsgId, else the messageId.
 */
export async function handleChange(
  ctx: OwnerContext,
  request: Inbound,
  record: RecordOf<'chat.edit'> | RecordOf<'chat.delete'>,
): Promise<void> {
  const { userId } = record;
  const { instanceId, connectionId, roomId, messageId, clientMsgId } = record.payload;
  const ref = clientMsgId ?? messageId;
  const user = await ensureUser(ctx, request.partition, userId);

  if (!takeToken(user.bucket, ctx.now(), { ratePerSec: ctx.limits.sendRatePerSec, burst: ctx.limits.sendBurst })) {
    ctx.metrics.sendsRefused.inc({ code: 'RATE_LIMITED' });
    ctx.publish([
      relay(ctx, userId, instanceId, [connectionId], { type: 'error', code: 'RATE_LIMITED', message: 'sending too fast', ref }),
    ]);
    return;
  }
  const change = record.type === 'chat.edit' ? { text: record.payload.text, deleted: false } : { text: '', deleted: true };
  const written = ctx.appends.append(
    { id: record.id, roomId, senderId: userId, clientMsgId: clientMsgId ?? record.id, edits: messageId, ...change },
    request.partition,
  );
  publishAppended(ctx, { user, recordId: record.id, instanceId, connectionId, ref, ackClientMsgId: clientMsgId, written });
}
