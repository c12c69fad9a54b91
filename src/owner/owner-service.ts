import { ChatError } from '../domain/errors';
import { assertNever } from '../domain/assert-never';
import { OwnedUsers } from '../domain/owned-users';
import type { Handled, OutboundRecord, OwnerGroupListener } from '../ports/bus';
import type { OwnerContext } from './owner-context';
import { handleLogin } from './login-handler';
import { handleSession } from './session-handler';
import { handleSend, handleTyping } from './send-handler';
import { handleChange } from './change-handler';
import { handleDeliver } from './deliver-handler';
import { handleRead } from './read-handler';
import { eagerLoad } from './eager-load';
import { createAppendBatcher } from './append-batcher';
import { coalesceRelays } from './fan-out';
import { createSessionDirectory } from './session-directory';
import { createSessionExpiryTimer, handleSessionExpire } from './session-expiry';

export interface OwnerService {
  readonly listener: OwnerGroupListener;
  readonly users: OwnedUsers;
  /** Stops the session expiry timer (it also stops when no partition is owned). */
  stop(): void;
}

const settled = Promise.resolve();

/** Thrown for a record of a partition this instance no longer owns; the bus then abandons it. */
class NotOwnedError extends ChatError {
  constructor(partition: number) {
    super('UNAVAILABLE', `partition ${partition} is not owned by this instance`, { retriable: true });
  }
}

/**
 * The owner role: the single writer of the state of the users on its partitions. It
 * handles their request records one at a time per partition, in order, and answers on
 * the requesting instance's inbox topic, never by broadcast.
 */
export function createOwnerService(
  options: Omit<OwnerContext, 'users' | 'logger' | 'publish' | 'appends' | 'directory'> & { logger: OwnerContext['logger'] },
): OwnerService {
  const users = new OwnedUsers(options.limits.sendBurst);
  const appends = createAppendBatcher({ store: options.store, metrics: options.metrics });
  const directory = createSessionDirectory({ mirror: options.mirror });
  const base: Omit<OwnerContext, 'publish'> = {
    ...options,
    users,
    appends,
    directory,
    logger: options.logger.child({ component: 'owner' }),
  };
  const log = base.logger;
  // Runs while this instance owns partitions: the owner of a user's partition, and only it,
  // announces the user offline when the last session expires (owner/session-expiry.ts).
  const expiry = createSessionExpiryTimer({
    users,
    bus: base.bus,
    chatTopic: base.chatTopic,
    ttlMs: base.limits.sessionTtlMs,
    now: base.now,
    logger: log,
  });

  // Per partition: the hand-over of the last record's output to the bus. Output that waits
  // on a database write (a send) is handed over once written, and the output of the records
  // after it waits its turn, so the bus gets a partition's output in record order.
  const handedOver = new Map<number, Promise<void>>();
  // Per partition: the offset of the last record handled, to see the bus go back to a
  // record whose output was not written (a failed write): its appends may go on again.
  const lastOffset = new Map<number, bigint>();

  /** The handlers' context for one record: what they publish is collected as its `Handled`. */
  const handle = async (partition: number, run: (ctx: OwnerContext) => Promise<void>): Promise<Handled> => {
    const writes: Promise<void>[] = [];
    const publish = (output: readonly OutboundRecord[] | Promise<readonly OutboundRecord[]>): void => {
      const ready = (handedOver.get(partition) ?? settled).then(() => output);
      handedOver.set(
        partition,
        ready.then(
          () => undefined,
          () => undefined,
        ),
      );
      const write = ready.then((records) => (records.length === 0 ? undefined : base.bus.publish(coalesceRelays(records))));
      // Observed through `published`; a rejection before that is not an unhandled one.
      write.catch(() => undefined);
      writes.push(write);
    };
    await run({ ...base, publish });
    return { published: writes.length === 1 ? writes[0]! : Promise.all(writes).then(() => undefined) };
  };

  const listener: OwnerGroupListener = {
    async onRecord(request) {
      const { partition } = request;
      if (!users.owns(partition)) throw new NotOwnedError(partition);
      const offset = BigInt(request.offset);
      const last = lastOffset.get(partition);
      // Seeing an offset again: the bus went back to a record whose output was not written.
      if (last !== undefined && offset <= last) appends.resume(partition);
      lastOffset.set(partition, offset);
      const record = request.record;
      return handle(partition, async (scope) => {
        switch (record.type) {
          case 'login.request':
            return handleLogin(scope, request, record);
          case 'session.opened':
          case 'session.closed':
            return handleSession(scope, request, record);
          case 'session.expire':
            return handleSessionExpire(scope, request, record);
          case 'chat.send':
            return handleSend(scope, request, record);
          case 'chat.edit':
          case 'chat.delete':
            return handleChange(scope, request, record);
          case 'chat.typing':
            return handleTyping(scope, request, record);
          case 'chat.read':
            return handleRead(scope, request, record);
          case 'deliver':
            return handleDeliver(scope, request, record);
          default:
            return assertNever(record, 'request record');
        }
      });
    },
    async onAssigned(partitions) {
      users.own(partitions);
      if (users.partitions().length > 0) expiry.start();
      base.metrics.ownedPartitions.set(users.partitions().length);
      log.info({ event: 'partitions.gained', partitions }, 'partitions assigned');
      // The bus holds these partitions' records until this settles (bounded by the timeout).
      await eagerLoad(base, partitions);
    },
    onRevoked(partitions) {
      for (const p of partitions) {
        handedOver.delete(p);
        lastOffset.delete(p);
        appends.resume(p);
      }
      const dropped = users.drop(partitions);
      if (users.partitions().length === 0) expiry.stop();
      base.metrics.ownedPartitions.set(users.partitions().length);
      log.info({ event: 'partitions.revoked', partitions, droppedUsers: dropped }, 'partitions revoked; state dropped');
    },
  };

  return { listener, users, stop: () => expiry.stop() };
}
