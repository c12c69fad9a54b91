import type { ServerFrame } from '../protocol/frames';
import type { OutboundRecord } from '../ports/bus';
import type { AppendOutcome } from '../ports/chat-store';
import type { OwnedUser } from '../domain/owned-users';
import { relay, relaysToLiveSockets, type OwnerContext } from './owner-context';
import { fanOut } from './fan-out';

/**
 * The output of one batched append (a send, an edit or a delete) once its write is done,
 * published in record order (`ctx.publish`): the requesting socket gets an `ack` when the
 * request carried a clientMsgId, else the `message` like the sender's other sockets; the
 * sender's other sockets get the `message` straight from the sender's own state, and
 * every other member's sockets through the fan-out. A refusal is an `error` frame for the
 * requesting socket only, with `ref`; a retriable failure throws, so the record is
 * handled again.
 *
 * Redelivery: the stored message's id is the id of the record that first carried it, so
 * seeing that same record again means its deliveries may not have been produced; they
 * are produced again (members drop duplicates by message id / seq). A *client* retry (a
 * new record, same clientMsgId) is only acked again with the stored message.
 */
export function publishAppended(
  ctx: OwnerContext,
  {
    user,
    recordId,
    instanceId,
    connectionId,
    ref,
    ackClientMsgId,
    written,
  }: {
    user: OwnedUser;
    recordId: string;
    instanceId: string;
    connectionId: string;
    /** The error frames' `ref`. */
    ref: string;
    /** The clientMsgId to ack with; none: the requesting socket gets the `message`. */
    ackClientMsgId: string | undefined;
    written: Promise<AppendOutcome>;
  },
): void {
  const { userId } = user;
  const toSender = (frame: ServerFrame): OutboundRecord => relay(ctx, userId, instanceId, [connectionId], frame);
  ctx.publish(
    written.then(async (outcome): Promise<OutboundRecord[]> => {
      if (!outcome.ok) {
        const { error } = outcome;
        if (error.retriable) throw error;
        // Unknown room, not a member (or removed meanwhile), a change the sender may not
        // make, or a text the database cannot store (a NUL character in a record that
        // bypassed the gateway).
        ctx.metrics.sendsRefused.inc({ code: error.code });
        // An internal failure's message names tables and codes: the client gets the code only.
        return [toSender({ type: 'error', code: error.code, message: error.code === 'INTERNAL' ? 'internal error' : error.message, ref })];
      }
      const { message, created, members } = outcome;
      const out: OutboundRecord[] = ackClientMsgId === undefined ? [] : [toSender({ type: 'ack', clientMsgId: ackClientMsgId, message })];
      if (created || message.id === recordId) {
        const frame: ServerFrame = { type: 'message', message };
        // The sender's other sockets (and, with no ack, the requesting one), straight from
        // the sender's own state: no deliver record through this very partition.
        out.push(...relaysToLiveSockets(ctx, user, frame, ackClientMsgId === undefined ? undefined : connectionId));
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
      ctx.metrics.messagesStored.inc({ outcome: created ? 'stored' : message.id === recordId ? 'redelivered' : 'client-retry' });
      return out;
    }),
  );
}
