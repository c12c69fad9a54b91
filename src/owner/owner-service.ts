import { ChatError, toChatError } from '../domain/errors';
import { assertNever } from '../domain/assert-never';
import { OwnedUsers } from '../domain/owned-users';
import { makeRecord, type RecordOf, type RequestRecord } from '../protocol/envelope';
import { Headers } from '../protocol/headers';
import type { Bus, InboundRecord, OwnerGroupListener } from '../ports/bus';
import type { ChatStore } from '../ports/chat-store';
import type { PasswordHasher } from '../auth/password-hasher';
import type { PasswordSealer } from '../auth/password-sealer';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface OwnerServiceOptions {
  instanceId: string;
  bus: Bus;
  store: ChatStore;
  hasher: PasswordHasher;
  sealer: PasswordSealer;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

export interface OwnerService {
  readonly listener: OwnerGroupListener;
  readonly users: OwnedUsers;
}

/** Thrown for a record of a partition this instance no longer owns; the bus then abandons it. */
class NotOwnedError extends ChatError {
  constructor(partition: number) {
    super('UNAVAILABLE', `partition ${partition} is not owned by this instance`, { retriable: true });
  }
}

/**
 * The owner role: the single writer of the state of the users on its partitions. It
 * handles their request records one at a time per partition, in order, and answers on the
 * requester's inbox topic (the reply-topic header), never by broadcast.
 */
export function createOwnerService({ instanceId, bus, store, hasher, sealer, logger, metrics, now = Date.now }: OwnerServiceOptions): OwnerService {
  const users = new OwnedUsers();
  const log = logger.child({ component: 'owner' });

  const reply = async (request: InboundRecord<RequestRecord>, record: RecordOf<'login.reply'>): Promise<void> => {
    const replyTopic = request.headers[Headers.replyTopic];
    const correlationId = request.headers[Headers.correlationId];
    if (replyTopic === undefined || correlationId === undefined) {
      log.warn({ type: request.record.type, userId: request.record.userId }, 'request without reply headers; nothing to answer');
      return;
    }
    await bus.publish([{ topic: replyTopic, key: request.record.userId, record, headers: { [Headers.correlationId]: correlationId } }]);
  };

  const handleLogin = async (request: InboundRecord<RequestRecord>, record: RecordOf<'login.request'>): Promise<void> => {
    const { userId } = record;
    let password: string;
    try {
      password = sealer.open(record.payload.sealedPassword);
    } catch (error) {
      // A different cluster secret, or a tampered record: answer, so the client is not left waiting.
      log.error({ userId, err: toChatError(error).message }, 'login request could not be opened');
      metrics.loginsHandled.inc({ result: 'error' });
      await reply(request, makeRecord('login.reply', userId, { ok: false, code: 'INTERNAL', message: 'login could not be processed', handledBy: instanceId }));
      return;
    }
    const user = await store.findUser(userId);
    let ok = false;
    try {
      ok = await hasher.verify(password, user?.passwordHash);
    } catch (error) {
      if (!(error instanceof ChatError && error.code === 'PASSWORD_TOO_LONG')) throw error;
    }
    if (ok && user !== undefined) {
      users.load(request.partition, user, now());
      metrics.loginsHandled.inc({ result: 'ok' });
      log.info({ event: 'login.handled', userId, partition: request.partition, result: 'ok' }, 'login');
      await reply(
        request,
        makeRecord('login.reply', userId, {
          ok: true,
          user: { userId: user.userId, displayName: user.displayName },
          handledBy: instanceId,
          partition: request.partition,
        }),
      );
      return;
    }
    metrics.loginsHandled.inc({ result: 'rejected' });
    log.info({ event: 'login.handled', userId, partition: request.partition, result: 'rejected' }, 'login');
    // One answer for unknown user and wrong password: which ids exist is not revealed.
    await reply(request, makeRecord('login.reply', userId, { ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid user id or password', handledBy: instanceId }));
  };

  const handleSession = (request: InboundRecord<RequestRecord>, record: RecordOf<'session.opened'> | RecordOf<'session.closed'>): void => {
    const user = users.get(request.partition, record.userId) ?? users.load(request.partition, { userId: record.userId, displayName: record.userId }, now());
    const { connectionId, instanceId: at } = record.payload;
    if (record.type === 'session.opened') user.sessions.set(connectionId, { instanceId: at, connectionId });
    else user.sessions.delete(connectionId);
  };

  const listener: OwnerGroupListener = {
    async onRecord(request) {
      if (!users.owns(request.partition)) throw new NotOwnedError(request.partition);
      const record = request.record;
      switch (record.type) {
        case 'login.request':
          return handleLogin(request, record);
        case 'session.opened':
        case 'session.closed':
          return handleSession(request, record);
        default:
          return assertNever(record, 'request record');
      }
    },
    onAssigned(partitions) {
      users.own(partitions);
      metrics.ownedPartitions.set(users.partitions().length);
      log.info({ event: 'partitions.gained', partitions }, 'partitions assigned');
    },
    onRevoked(partitions) {
      const dropped = users.drop(partitions);
      metrics.ownedPartitions.set(users.partitions().length);
      log.info({ event: 'partitions.revoked', partitions, droppedUsers: dropped }, 'partitions revoked; state dropped');
    },
  };

  return { listener, users };
}
