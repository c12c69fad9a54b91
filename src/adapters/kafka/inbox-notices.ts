import { assertNever } from '../../domain/assert-never';
import { BUS_NOTICE_USER_ID, makeRecord, type InboxNoticeRecord } from '../../protocol/envelope';
import type { Logger } from '../../observability/logger';
import type { InboxPresence } from './inbox-presence';
import { forgetTargetTopics } from './kafkajs-deleted-topic-fix';
import type { WireRecord } from './kafka-producer';

export interface InboxNoticesOptions {
  /** This instance's id: a notice about itself is ignored (it is the one leaving). */
  readonly instanceId: string;
  /** The broadcast topic: one partition, read by every instance, in one order everywhere. */
  readonly broadcastTopic: string;
  readonly inboxTopic: (instanceId: string) => string;
  readonly presence: Pick<InboxPresence, 'retire' | 'revive'>;
  /** Writes one record, acks=all (the bus's producer.sendOne). */
  readonly send: (record: WireRecord) => Promise<void>;
  /**
   * How long the deleter waits between announcing an inbox's retirement and deleting it,
   * so every instance has read the notice first. Default 1500 ms: an inbox consumer's
   * fetch answers as soon as a record arrives, so a healthy cluster needs milliseconds;
   * the rest is room for a loaded one. An instance that reads it late only meets the
   * slower path the notice avoids (inbox-presence.ts's grace).
   */
  readonly noticeMs?: number;
  readonly logger: Logger;
  /** Waits `ms`; a parameter for the unit test. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface InboxNotices {
  /**
   * Announces that an inbox is about to be deleted, and waits the notice time. Call before
   * deleting it. Rejects if the notice could not be written (then do not delete yet).
   */
  retiring(instanceId: string): Promise<void>;
  /** Announces that this instance's inbox is open (it may have been retired under this id before). */
  opened(): Promise<void>;
  /** Handles a notice read from the broadcast topic. */
  handle(record: InboxNoticeRecord): void;
}

/**
 * Why notices: deleting an inbox topic that other instances still produce to failed their
 * whole sendBatches (records for everyone else with them) until inbox-presence's grace
 * had passed, and kafkajs's metadata refresh failed on the deleted topic until no broker
 * listed it any more: 25–30 s in which other instances' messages stalled, measured in CI.
 * With a notice first, every instance drops records for that inbox and forgets it in
 * kafkajs before it is deleted, so the deletion itself touches nobody's produce.
 *
 * Guarantees: notices travel on the single-partition broadcast topic, so `inbox.retired`
 * and a later `inbox.opened` for the same id (a restart under the same id) are read in
 * that order by every instance. Handling is idempotent.
 */
export function createInboxNotices({
  instanceId,
  broadcastTopic,
  inboxTopic,
  presence,
  send,
  noticeMs = 1_500,
  logger,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}: InboxNoticesOptions): InboxNotices {
  const announce = (type: 'inbox.retired' | 'inbox.opened', id: string): Promise<void> =>
    send({
      topic: broadcastTopic,
      key: BUS_NOTICE_USER_ID,
      value: JSON.stringify(makeRecord(type, BUS_NOTICE_USER_ID, { instanceId: id })),
      headers: {},
    });

  return {
    async retiring(id) {
      await announce('inbox.retired', id);
      await sleep(noticeMs);
    },
    opened: () => announce('inbox.opened', instanceId),
    handle(record) {
      switch (record.type) {
        case 'inbox.retired': {
          const id = record.payload.instanceId;
          if (id === instanceId) return;
          const topic = inboxTopic(id);
          presence.retire(topic);
          const clusters = forgetTargetTopics([topic]);
          logger.info({ topic, clusters }, 'inbox retired by its instance or the janitor: records for it are dropped from now on');
          return;
        }
        case 'inbox.opened':
          if (record.payload.instanceId !== instanceId) presence.revive(inboxTopic(record.payload.instanceId));
          return;
        default:
          return assertNever(record, 'inbox notice');
      }
    },
  };
}
