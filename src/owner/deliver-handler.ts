import type { RecordOf } from '../protocol/envelope';
import { ensureUser, relaysToLiveSockets, type Inbound, type OwnerContext } from './owner-context';

/**
 * deliver at the recipient's owner: relay the frame to the instances that hold the
 * recipient's live sockets — only those, one record per instance. A recipient with no
 * socket gets nothing now; a message is in PostgreSQL for its next resume.
 */
export async function handleDeliver(ctx: OwnerContext, request: Inbound, record: RecordOf<'deliver'>): Promise<void> {
  const { userId } = record;
  const user = await ensureUser(ctx, request.partition, userId);
  // exceptConnectionId: records from earlier versions still name the sending socket.
  const { frame, exceptConnectionId } = record.payload;
  const out = relaysToLiveSockets(ctx, user, frame, exceptConnectionId);
  ctx.metrics.deliveries.inc({ frame: frame.type, outcome: out.length > 0 ? 'relayed' : 'offline' });
  if (out.length > 0) ctx.publish(out);
}
