import { toChatError } from '../domain/errors';
import { makeRecord, type RecordOf } from '../protocol/envelope';
import type { ServerFrame } from '../protocol/frames';
import type { OutboundRecord } from '../ports/bus';
import { ensureUser, relay, relaysToLiveSockets, replyTo, type Inbound, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';

/**
 * chat.read at the reader's owner, the single writer of the reader's cursors: move the
 * cursor in the store (only forward; the store checks membership and the room's last seq
 * in the same statement), then tell the reader's other sockets (`read`, straight from this
 * owner's own session state) and the room's other members (`receipt`, through the session
 * directory like a message, or their owners when it cannot answer). Receipts are thinned:
 * none in a room with more than `receiptsMaxRoomMembers` members; the cursor and the
 * reader's own `read` never are.
 *
 * A read at or below the cursor changes nothing and sends nothing, so a redelivered record
 * is harmless (after a crash between the write and the produce the notifications of that
 * one read are lost; the cursor itself, and the unread counts of GET /api/rooms, are right).
 *
 * Answers: from REST (reply headers) a `chat.read.reply` with the cursor or the refusal;
 * from a socket, a refusal is an `error` frame to that socket (ref = the room id).
 */
export async function handleRead(ctx: OwnerContext, request: Inbound, record: RecordOf<'chat.read'>): Promise<void> {
  const { userId } = record;
  const { roomId, seq, instanceId, connectionId } = record.payload;
  const fromSocket = instanceId !== undefined && connectionId !== undefined;
  const answer = (payload: RecordOf<'chat.read.reply'>['payload']): OutboundRecord[] => {
    const reply = replyTo(request, makeRecord('chat.read.reply', userId, payload));
    return reply === undefined ? [] : [reply];
  };

  let outcome: Awaited<ReturnType<OwnerContext['store']['markRead']>>;
  try {
    outcome = await ctx.store.markRead(userId, roomId, seq);
  } catch (error) {
    const err = toChatError(error);
    if (err.retriable) throw err;
    ctx.metrics.readsHandled.inc({ outcome: err.code });
    const message = err.code === 'INTERNAL' ? 'internal error' : err.message;
    const refusal: ServerFrame = { type: 'error', code: err.code, message, ref: roomId };
    ctx.publish(fromSocket ? [relay(ctx, userId, instanceId, [connectionId], refusal)] : answer({ ok: false, code: err.code, message }));
    return;
  }
  ctx.metrics.readsHandled.inc({ outcome: outcome.moved ? 'moved' : 'unchanged' });
  const out = answer({ ok: true, lastReadSeq: outcome.lastReadSeq });
  if (outcome.moved) {
    const user = await ensureUser(ctx, request.partition, userId);
    out.push(...relaysToLiveSockets(ctx, user, { type: 'read', roomId, seq: outcome.lastReadSeq }, fromSocket ? connectionId : undefined));
    if (outcome.members.length <= ctx.limits.receiptsMaxRoomMembers) {
      const receipt: ServerFrame = { type: 'receipt', roomId, userId, seq: outcome.lastReadSeq };
      out.push(
        ...(await fanOut(
          ctx,
          receipt,
          outcome.members.filter((m) => m !== userId),
          userId,
        )),
      );
    }
  }
  if (out.length > 0) ctx.publish(out);
}
