import type { Metrics } from '../observability/metrics';
import type { InboxListener } from '../ports/bus';
import { CloseCodes } from '../protocol/close-codes';
import type { RelayPart } from '../protocol/envelope';
import { assertNever } from '../domain/assert-never';
import type { ConnectionRegistry } from './connection-registry';
import type { RequestReply } from './request-reply';

/**
 * The last hop of everything addressed to this instance: login and read replies to the request
 * waiting for them, relayed frames to the sockets they name, broadcasts to every socket,
 * token revocations to the sockets opened with that token, and an owner's refusal of a
 * new socket (the per-user cap) to that socket. It holds no state of its
 * own; ordering is the bus's (one inbox, read in order).
 */
export function createInboxDispatcher({
  registry,
  requestReply,
  metrics,
}: {
  registry: ConnectionRegistry;
  requestReply: RequestReply;
  metrics: Metrics;
}): InboxListener {
  const relay = ({ connectionIds, frame }: RelayPart): void => {
    // A socket that closed since its owner looked it up: counted, and its resume covers it.
    const missed = connectionIds.length - registry.deliver(connectionIds, frame);
    if (missed > 0) metrics.relayMisses.inc(missed);
  };
  return async (inbound) => {
    const record = inbound.record;
    switch (record.type) {
      case 'login.reply':
      case 'chat.read.reply':
        requestReply.settle(inbound);
        return;
      case 'relay':
        relay(record.payload);
        return;
      case 'relay.batch':
        for (const part of record.payload.parts) relay(part);
        return;
      case 'broadcast':
        for (const c of registry.all()) registry.deliver([c.id], record.payload.frame);
        return;
      case 'session.refused':
        registry.get(record.payload.connectionId)?.close(CloseCodes.POLICY, record.payload.reason);
        return;
      case 'token.revoked':
        for (const c of registry.all()) if (c.jti === record.payload.jti) c.close(CloseCodes.TOKEN_INVALID, 'token revoked');
        return;
      default:
        return assertNever(record, 'inbox record');
    }
  };
}
