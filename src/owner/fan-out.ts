import { byInstance } from '../domain/owned-users';
import { makeRecord, type RelayPart } from '../protocol/envelope';
import type { ServerFrame } from '../protocol/frames';
import type { OutboundRecord } from '../ports/bus';
import { deliver, relay, type OwnerContext } from './owner-context';

/**
 * A frame for the live sockets of other users (a room's members): the second and last Kafka
 * hop of a message. The session directory (the mirror the recipients' owners keep) says
 * which instances hold their sockets, and each such instance gets one relay, to its inbox:
 * one record per instance, whatever the number of recipients there.
 *
 * Why this is safe against a socket that moves meanwhile: the directory answers after the
 * message was stored, and a socket's owner writes it to the directory before it answers
 * `ready`. A socket the answer misses therefore got `ready` after the message was stored,
 * and the resume its client sends after `ready` reads the message from PostgreSQL; a socket
 * the answer names that has closed costs a relay miss, nothing else.
 *
 * When the directory cannot answer (Redis down) the frame goes the long way: one `deliver`
 * record per recipient through the recipient's owner, which knows its sessions from its
 * own state. Slower (one hop and one record per member more), never lost.
 */
export async function fanOut(
  ctx: OwnerContext,
  frame: ServerFrame,
  recipients: readonly string[],
  causedBy: string,
): Promise<OutboundRecord[]> {
  if (recipients.length === 0) return [];
  let found: Awaited<ReturnType<OwnerContext['directory']['lookup']>>;
  try {
    found = await ctx.directory.lookup(recipients);
  } catch (error) {
    ctx.metrics.fanOuts.inc({ path: 'via-owner' });
    ctx.logger.debug(
      { err: error instanceof Error ? error.message : String(error) },
      'session directory unavailable: delivering through the members’ owners',
    );
    return recipients.map((m) => deliver(ctx, m, frame));
  }
  ctx.metrics.fanOuts.inc({ path: 'direct' });
  const now = ctx.now();
  // The directory's own TTL check is the mirror's; this owner's clock decides too, as for its own users.
  const live = recipients.flatMap((m) => found.get(m) ?? []).filter((s) => now - s.seenAt <= ctx.limits.sessionTtlMs);
  return [...byInstance(live)].map(([instanceId, connectionIds]) => relay(ctx, causedBy, instanceId, connectionIds, frame));
}

/** Parts one `relay.batch` record holds at most (its schema's bound). */
const MAX_PARTS = 100;

/**
 * One record per inbox topic: the relays of one handler's output that go to the same
 * instance become one `relay.batch` (parts in the order they were made), so a send's ack
 * and the message for the members on the sender's instance cost one record. The merged
 * record takes the place of the first relay it holds; other records keep their order.
 */
export function coalesceRelays(records: readonly OutboundRecord[]): OutboundRecord[] {
  type Group = { readonly first: OutboundRecord; readonly parts: RelayPart[] };
  const slots: (OutboundRecord | Group)[] = [];
  const groups = new Map<string, Group>();
  for (const r of records) {
    // A relay with headers (none today) would lose them in a batch: it stays as it is.
    if (r.record.type !== 'relay' || r.headers !== undefined) {
      slots.push(r);
      continue;
    }
    const group = groups.get(r.topic);
    if (group !== undefined) {
      group.parts.push(r.record.payload);
      continue;
    }
    const created: Group = { first: r, parts: [r.record.payload] };
    groups.set(r.topic, created);
    slots.push(created);
  }
  return slots.flatMap((slot): OutboundRecord[] => {
    if (!('parts' in slot)) return [slot];
    if (slot.parts.length === 1) return [slot.first];
    const { topic, key } = slot.first;
    const out: OutboundRecord[] = [];
    for (let i = 0; i < slot.parts.length; i += MAX_PARTS) {
      out.push({ topic, key, record: makeRecord('relay.batch', key, { parts: slot.parts.slice(i, i + MAX_PARTS) }) });
    }
    return out;
  });
}
