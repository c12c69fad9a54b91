import { takeToken } from '../domain/token-bucket';
import type { RecordOf } from '../protocol/envelope';
import type { ServerFrame } from '../protocol/frames';
import { ensureUser, relay, type Inbound, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';
import { publishAppended } from './appended-output';

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
 * record per other member, keyed by them (owner/appended-output.ts, which also says what
 * a redelivery and a client retry produce).
 */
export async function handleSend(ctx: OwnerContext, request: Inbound, record: RecordOf<'chat.send'>): Promise<void> {
  const { userId } = record;
  const { instanceId, connectionId, roomId, clientMsgId, text } = record.payload;
  const user = await ensureUser(ctx, request.partition, userId);

  if (!takeToken(user.bucket, ctx.now(), { ratePerSec: ctx.limits.sendRatePerSec, burst: ctx.limits.sendBurst })) {
    ctx.metrics.sendsRefused.inc({ code: 'RATE_LIMITED' });
    ctx.publish([
      relay(ctx, userId, instanceId, [connectionId], {
        type: 'error',
        code: 'RATE_LIMITED',
        message: 'sending too fast',
        ref: clientMsgId,
      }),
    ]);
    return;
  }
  // The partition goes on to its next record while this write is batched with others;
  // the ack and deliveries go out once it is done (in record order: ctx.publish).
  const written = ctx.appends.append({ id: record.id, roomId, senderId: userId, clientMsgId, text }, request.partition);
  publishAppended(ctx, { user, recordId: record.id, instanceId, connectionId, ref: clientMsgId, ackClientMsgId: clientMsgId, written });
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
