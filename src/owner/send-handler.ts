import { takeToken } from '../domain/token-bucket';
import type { RecordOf } from '../protocol/envelope';
import type { ServerFrame } from '../protocol/frames';
import type { OutboundRecord } from '../ports/bus';
import { ensureUser, relay, relaysToLiveSockets, type Inbound, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';

/** Members of the room, or a refusal frame for the sender when the room is unknown or closed to them. */
async function membersFor(ctx: OwnerContext, roomId: string, userId: string, ref: string): Promise<string[] | ServerFrame> {
  const members = await ctx.store.roomMembers(roomId);
  if (members === undefined) return { type: 'error', code: 'ROOM_NOT_FOUND', message: `no room ${roomId}`, ref };
  if (!members.includes(userId)) return { type: 'error', code: 'NOT_A_MEMBER', message: `not a member of room ${roomId}`, ref };
  return members;
}

/**
 * chat.send at the sender's owner: rate limit, then one batched write (owner/append-batcher),
 * which the partition does not wait for, that checks membership, stores the message once
 * (idempotent on sender + clientMsgId, which also fixes the room sequence) and reads the
 * room's members in the same statement; then ack the sending socket, relay to the sender's
 * other sockets (the sender's sessions are this owner's own state), and one `deliver`
 * record per other member, keyed by them.
 *
 * Redelivery after a crash: the stored message's id is the id of the record that first
 * carried it, so seeing that same record again means its deliveries may not have been
 * produced; they are produced again (members drop duplicates by message id). A *client*
 * retry (a new record, same clientMsgId) is only acked again with the stored message.
 */
export async function handleSend(ctx: OwnerContext, request: Inbound, record: RecordOf<'chat.send'>): Promise<void> {
  const { userId } = record;
  const { instanceId, connectionId, roomId, clientMsgId, text } = record.payload;
  const toSender = (frame: ServerFrame): OutboundRecord => relay(ctx, userId, instanceId, [connectionId], frame);
  const user = await ensureUser(ctx, request.partition, userId);

  if (!takeToken(user.bucket, ctx.now(), { ratePerSec: ctx.limits.sendRatePerSec, burst: ctx.limits.sendBurst })) {
    ctx.metrics.sendsRefused.inc({ code: 'RATE_LIMITED' });
    ctx.publish([toSender({ type: 'error', code: 'RATE_LIMITED', message: 'sending too fast', ref: clientMsgId })]);
    return;
  }
  // The partition goes on to its next record while this write is batched with others;
  // the ack and deliveries go out once it is done (in record order: ctx.publish).
  const written = ctx.appends.append({ id: record.id, roomId, senderId: userId, clientMsgId, text }, request.partition);
  ctx.publish(
    written.then(async (outcome): Promise<OutboundRecord[]> => {
      if (!outcome.ok) {
        const { error } = outcome;
        if (error.retriable) throw error;
        // Unknown room, not a member (or removed meanwhile), or a text the database cannot
        // store (a NUL character in a record that bypassed the gateway).
        ctx.metrics.sendsRefused.inc({ code: error.code });
        // An internal failure's message names tables and codes: the client gets the code only.
        return [
          toSender({
            type: 'error',
            code: error.code,
            message: error.code === 'INTERNAL' ? 'internal error' : error.message,
            ref: clientMsgId,
          }),
        ];
      }
      const { message, created, members } = outcome;
      const out: OutboundRecord[] = [toSender({ type: 'ack', clientMsgId, message })];
      if (created || message.id === record.id) {
        const frame: ServerFrame = { type: 'message', message };
        // The sender's other sockets, straight from the sender's own state: no deliver
        // record through this very partition.
        out.push(...relaysToLiveSockets(ctx, user, frame, connectionId));
        out.push(
          ...(await fanOut(
            ctx,
            frame,
            members.filter((m) => m !== userId),
            userId,
          )),
        );
      }
      // redelivered: this very record was handled before (crash or rebalance before commit);
      // client-retry: a new record for a clientMsgId already stored.
      ctx.metrics.messagesStored.inc({ outcome: created ? 'stored' : message.id === record.id ? 'redelivered' : 'client-retry' });
      return out;
    }),
  );
}

/** chat.typing: tell the room's other members; refused quietly to non-members. */
export async function handleTyping(ctx: OwnerContext, _request: Inbound, record: RecordOf<'chat.typing'>): Promise<void> {
  const { userId } = record;
  const { roomId, instanceId, connectionId } = record.payload;
  const members = await membersFor(ctx, roomId, userId, roomId);
  if (!Array.isArray(members)) {
    ctx.publish([relay(ctx, userId, instanceId, [connectionId], members)]);
    return;
  }
  const out = await fanOut(
    ctx,
    { type: 'typing', roomId, userId },
    members.filter((m) => m !== userId),
    userId,
  );
  if (out.length > 0) ctx.publish(out);
}
