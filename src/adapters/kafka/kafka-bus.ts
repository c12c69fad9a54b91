import { Kafka, logLevel as KafkaLogLevel, type Admin } from 'kafkajs';
import type { z } from 'zod';
import { InboxTopicRecordSchema, isInboxNotice, RequestRecordSchema, type InboxTopicRecord } from '../../protocol/envelope';
import type { ChatError } from '../../domain/errors';
import type { BackoffPolicy } from '../../domain/backoff';
import type { Bus, Handled, InboundRecord, InboxListener, OutboundRecord, OwnerGroupListener, OwnerGroupStatus } from '../../ports/bus';
import type { HealthCheck } from '../../ports/service';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { deadLetterHeaders, type RawRecord } from '../record-pipeline';
import { createOwnerLag } from './consumer-lag';
import { isUnknownTopic, retryStartup, toBusError } from './kafka-errors';
import { kafkaLogCreator } from './kafka-log-creator';
import { applyKafkajsIdleFix, KAFKAJS_IDLE_FIX_VERSION } from './kafkajs-idle-fix';
import { applyKafkajsDeletedTopicFix, KAFKAJS_DELETED_TOPIC_FIX_VERSION } from './kafkajs-deleted-topic-fix';
import { createKafkaProducer } from './kafka-producer';
import { createKafkaPublisher } from './kafka-publisher';
import { createOwnInbox } from './own-inbox';
import { createInboxPresence } from './inbox-presence';
import { createInboxNotices } from './inbox-notices';
import { createOffsetCommitter, type OffsetCommitter } from './offset-committer';
import { createInboxConsumer, type InboxConsumer } from './inbox-consumer';
import { createOwnerGroupConsumer, type GroupConsumerSettings, type OwnerGroupConsumer } from './owner-group-consumer';
import { createPartitionConsumer } from './partition-consumer';
import { createPartitionMembership } from './partition-membership';
import { createTopicAdmin } from './topic-admin';
import { inboxGroupOf, inboxTopicOf, type TopicsConfig } from '../../protocol/topics';
import type { KafkaSasl, KafkaTls } from '../../config/config';
import { describeStartFailure, kafkaSecurity } from './kafka-security';

export interface KafkaBusOptions {
  instanceId: string;
  brokers: readonly string[];
  /** Default 'keyed-chat'; the instance id is appended so broker logs tell instances apart. */
  clientId?: string;
  topics: TopicsConfig;
  /** Replication factor of topics this bus creates. Default 3; min.insync.replicas is min(2, rf). */
  replicationFactor?: number;
  /** Create missing request topics at start (with `topics.partitions`). Default true. */
  createTopics?: boolean;
  /** Owner group session timeout. Default 30 s: a dead instance's users move after at most this. */
  sessionTimeoutMs?: number;
  /** Default 3 s; must be well under the session timeout. */
  heartbeatIntervalMs?: number;
  /** Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** Retry policy for retriable handler failures. Default: domain/backoff defaultBackoff. */
  backoff?: BackoffPolicy;
  /**
   * How long one handler attempt may run while this member keeps heartbeating (a record
   * waiting on a slow database). Past it heartbeats stop and the group may move the
   * partition. Default 300 s, the Java client's max.poll.interval.ms.
   */
  maxHandlerMs?: number;
  /** How often the lag of owned partitions is re-read from the group's committed offsets. Default 5 s. */
  lagRefreshMs?: number;
  /**
   * Longest wait for a publish to be acknowledged (acks=all) before it fails with a
   * retriable error; also the brokers' wait for in-sync replicas per produce request.
   * Default 10 s. Without it, a cluster below min.insync.replicas holds every publish for
   * the request timeout times kafkajs's retries, minutes in which clients hear nothing.
   */
  produceTimeoutMs?: number;
  /**
   * Consumers' fetch: answered once `fetchMinBytes` are there or after `fetchMaxWaitMs`.
   * Defaults 1 byte and 3 s: every fetch answers as soon as one record is there (lowest
   * latency, most fetch requests under load); the wait sets how often an idle consumer
   * fetches from each broker (4 times a second at 250 ms was most of an idle instance's
   * Kafka CPU, once a second still half of it). It is capped at the heartbeat interval:
   * kafkajs heartbeats between fetches.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  /**
   * How long a handled record's offset may wait to be committed (per consumer). Default
   * 1000 ms; 0 commits at the end of every batch. Commits are always made, and waited for,
   * when partitions are revoked or the bus stops, so only a crash redoes up to this much.
   */
  commitIntervalMs?: number;
  /**
   * Delete this instance's inbox topic and its group after a graceful stop. Default true:
   * instance ids change with every container or pod, and an inbox left behind is a topic
   * nobody reads (docs/operations.md, "Inbox topics").
   */
  deleteInboxOnStop?: boolean;
  /** TLS to the brokers (KAFKA_SSL*). Default none: plaintext. */
  ssl?: KafkaTls;
  /** SASL credentials (KAFKA_SASL_*). Default none. */
  sasl?: KafkaSasl;
  logger: Logger;
  metrics: Metrics;
}

/**
 * The Kafka bus (kafkajs): an idempotent producer with acks=all; the owner group over the
 * request topics with the co-partitioning assignor; and this instance's inbox topic, read
 * only by this instance's own group. Offsets are committed only after a record's output
 * is written: periodically (commitIntervalMs), and always on a rebalance and on stop.
 */
export function createKafkaBus({
  instanceId,
  brokers,
  clientId = 'keyed-chat',
  topics,
  replicationFactor = 3,
  createTopics = true,
  sessionTimeoutMs = 30_000,
  heartbeatIntervalMs = 3_000,
  rebalanceTimeoutMs = 60_000,
  backoff,
  maxHandlerMs = 300_000,
  lagRefreshMs = 5_000,
  produceTimeoutMs = 10_000,
  fetchMinBytes = 1,
  fetchMaxWaitMs = 3_000,
  commitIntervalMs = 1_000,
  deleteInboxOnStop = true,
  ssl,
  sasl,
  logger,
  metrics,
}: KafkaBusOptions): Bus {
  const log = logger.child({ component: 'kafka-bus' });
  // Without it an idle instance spins kafkajs's request queues every millisecond (see there).
  if (!applyKafkajsIdleFix())
    log.warn(
      { expected: KAFKAJS_IDLE_FIX_VERSION },
      'kafkajs is not the version its idle fix was written for; fix not applied (idle CPU will be higher)',
    );
  // Without it, an inbox topic deleted by a leaving instance or the janitor would wedge this producer (see there).
  if (!applyKafkajsDeletedTopicFix())
    log.warn(
      { expected: KAFKAJS_DELETED_TOPIC_FIX_VERSION },
      'kafkajs is not the version its deleted-topic fix was written for; fix not applied (deleting inbox topics may wedge producers)',
    );
  const kafka = new Kafka({
    clientId: `${clientId}-${instanceId}`,
    brokers: [...brokers],
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(logger),
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    connectionTimeout: 3_000,
    ...kafkaSecurity({ ssl, sasl }),
  });
  // kafkajs heartbeats only between fetches (there is no heartbeat thread), so an idle
  // consumer heartbeats once per fetch wait: a wait longer than the heartbeat interval
  // would delay heartbeats, and the group's notice of a rebalance, past what the interval
  // promises. Capped here rather than refused in config: each is a valid setting alone.
  const fetchWaitMs = Math.min(fetchMaxWaitMs, heartbeatIntervalMs);
  // The inbox group has one member, this instance, so it has no rebalance to notice
  // quickly: its idle fetches wait as long as heartbeats allow. (A fetch answers as soon as
  // a record arrives whatever its wait, so this costs replies no latency; an idle instance
  // saves two thirds of its inbox fetches, each of which costs the brokers and us CPU.)
  const inboxFetchWaitMs = Math.max(fetchWaitMs, heartbeatIntervalMs);
  const inboxTopic = (id: string): string => inboxTopicOf(topics, id);
  const requestTopics = [topics.login, topics.chat];
  const admin: Admin = kafka.admin();
  const topicAdmin = createTopicAdmin({ admin, replicationFactor, requestTopics, requestPartitions: topics.partitions });
  const producer = createKafkaProducer({ kafka, produceTimeoutMs, logger: log });
  const inboxTopicPrefix = inboxTopic('');
  const isInboxTopic = (t: string): boolean => t.startsWith(inboxTopicPrefix);
  const inboxPresence = createInboxPresence({ listTopics: () => admin.listTopics(), isInbox: isInboxTopic });
  // Deletions of inbox topics are announced first, so nobody's produce meets one (see there).
  const notices = createInboxNotices({
    instanceId,
    broadcastTopic: topics.broadcast,
    inboxTopic,
    presence: inboxPresence,
    send: (record) => producer.sendOne(record),
    logger: log,
  });
  const membership = createPartitionMembership();
  const lag = createOwnerLag({
    admin,
    groupId: topics.ownerGroup,
    topics: requestTopics,
    owned: () => membership.partitions(),
    intervalMs: lagRefreshMs,
    metrics,
    logger: log,
  });

  let ownerListener: OwnerGroupListener | undefined;
  let inboxListener: InboxListener | undefined;
  let ownerGroup: OwnerGroupConsumer | undefined;
  let inboxConsumer: InboxConsumer | undefined;
  let started = false;
  const inboxState = (): 'idle' | 'joined' | 'crashed' => inboxConsumer?.state() ?? 'idle';
  // A consumer that crashes (say, on metadata of a topic created a moment ago) restarts
  // itself, quickly: while it is down, replies to this instance wait.
  const consumerRetry = { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000, restartOnFailure: async () => true };
  const consumerSettings = (maxWaitTimeInMs: number): GroupConsumerSettings => ({
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    minBytes: fetchMinBytes,
    maxWaitTimeInMs,
    retry: consumerRetry,
  });

  // After the inbox first joined, records to it go straight to its listener (own-inbox.ts).
  // Not before: records produced while it joins are read once it has, and local ones
  // handed over meanwhile would overtake them. A crashed consumer changes nothing here:
  // the listener is in this process either way.
  const ownInbox = createOwnInbox({
    topic: inboxTopic(instanceId),
    listener: () => (inboxState() === 'idle' ? undefined : inboxListener),
    metrics,
    logger: log,
  });
  const publisher = createKafkaPublisher({
    producer,
    ownInbox,
    inboxPresence,
    isInboxTopic,
    metrics,
    logger: log,
  });

  const deadLetter = async (raw: RawRecord, error: ChatError, attempts: number): Promise<void> => {
    const dlt = await topicAdmin.ensureDeadLetterTopic(raw.topic);
    await producer.sendOne({ topic: dlt, key: raw.key, value: raw.value, headers: deadLetterHeaders(raw, error, attempts) });
  };
  const partitionConsumer = <R>(
    source: 'owner' | 'inbox',
    committer: OffsetCommitter,
    schema: z.ZodType<R>,
    listener: (record: InboundRecord<R>) => Promise<Handled | void>,
  ) =>
    createPartitionConsumer({
      source,
      schema,
      listener,
      committer,
      ...(source === 'owner' ? { owns: (p: number) => membership.owns(p), preparation: (p: number) => membership.preparation(p) } : {}),
      deadLetter,
      heartbeatIntervalMs,
      maxHandlerMs,
      ...(backoff === undefined ? {} : { backoff }),
      metrics,
      logger: log,
    });

  const startOwner = async (listener: OwnerGroupListener): Promise<void> => {
    const committer = createOffsetCommitter({ intervalMs: commitIntervalMs, logger: log });
    ownerGroup = createOwnerGroupConsumer({
      kafka,
      instanceId,
      topics,
      settings: consumerSettings(fetchWaitMs),
      membership,
      committer,
      eachBatch: partitionConsumer('owner', committer, RequestRecordSchema, listener.onRecord),
      listener,
      lag,
      metrics,
      logger: log,
    });
    await ownerGroup.start();
  };

  const startInbox = async (listener: InboxListener): Promise<void> => {
    const topic = inboxTopic(instanceId);
    await retryStartup(() => topicAdmin.ensureTopic(topic, 1));
    // One partition keeps cluster-wide frames (announcements) in one order everywhere.
    await retryStartup(() => topicAdmin.ensureTopic(topics.broadcast, 1));
    const committer = createOffsetCommitter({ intervalMs: commitIntervalMs, logger: log });
    inboxConsumer = createInboxConsumer({
      kafka,
      groupId: inboxGroupOf(topics, instanceId),
      inboxTopic: topic,
      broadcastTopic: topics.broadcast,
      settings: consumerSettings(inboxFetchWaitMs),
      committer,
      // The bus's own notices (inbox-notices.ts) are handled here; the rest is the gateway's.
      eachBatch: partitionConsumer('inbox', committer, InboxTopicRecordSchema, async (inbound: InboundRecord<InboxTopicRecord>) => {
        const { record } = inbound;
        if (isInboxNotice(record)) return notices.handle(record);
        return listener({ ...inbound, record });
      }),
      // Bounded: a consumer that cannot join fails the start instead of hanging it.
      joinTimeoutMs: rebalanceTimeoutMs + 30_000,
      metrics,
      logger: log,
    });
    await inboxConsumer.start();
    // Others may have retired this inbox under this id (a restart with the same id): open it again for them.
    await retryStartup(() => notices.opened());
  };

  /**
   * Deletes an instance's inbox topic and group, announced first (inbox-notices.ts); a
   * topic or group already gone is fine. An announcement that cannot be written leaves
   * the topic (the janitor tries again): deleting it unannounced would stall the others.
   */
  const deleteInbox = async (id: string, why: 'stop' | 'janitor'): Promise<void> => {
    const topic = inboxTopic(id);
    try {
      await notices.retiring(id);
    } catch (error) {
      log.warn({ topic, why, err: error instanceof Error ? error.message : String(error) }, 'inbox retirement not announced; topic kept');
      if (why === 'janitor') throw toBusError(error, 'inbox retirement not announced');
      return;
    }
    try {
      await admin.deleteTopics({ topics: [topic] });
    } catch (error) {
      if (!isUnknownTopic(error)) {
        log.warn({ topic, why, err: error instanceof Error ? error.message : String(error) }, 'inbox topic delete failed');
        if (why === 'janitor') throw toBusError(error, 'inbox topic delete failed');
        return;
      }
    }
    await admin.deleteGroups([inboxGroupOf(topics, id)]).catch(() => undefined); // an empty group goes on its own too
    log.info({ topic, why }, 'inbox topic deleted');
  };

  return {
    kind: 'kafka',
    inboxTopicOf: inboxTopic,

    inboxes: {
      async list() {
        const all = await admin.listTopics();
        return all.filter((t) => isInboxTopic(t) && !t.endsWith('.dlt')).map((t) => t.slice(inboxTopicPrefix.length));
      },
      delete: (id) => deleteInbox(id, 'janitor'),
    },

    publish: (records: readonly OutboundRecord[]) => publisher.publish(records),

    openInbox(listener: InboxListener): void {
      inboxListener = listener;
    },

    joinOwnerGroup(listener: OwnerGroupListener): void {
      ownerListener = listener;
    },

    ownerStatus(): OwnerGroupStatus {
      return { state: membership.state, memberId: ownerGroup?.memberId(), partitions: membership.partitions() };
    },

    async health(): Promise<HealthCheck> {
      if (!started) return { ok: false, detail: 'not started' };
      if (inboxListener !== undefined && inboxState() !== 'joined') return { ok: false, detail: `inbox consumer ${inboxState()}` };
      try {
        const cluster = await Promise.race([
          admin.describeCluster(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('describeCluster timed out')), 2_000).unref()),
        ]);
        return { ok: true, detail: `${cluster.brokers.length} brokers, controller ${cluster.controller ?? 'none'}` };
      } catch (error) {
        return { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    },

    async start(): Promise<void> {
      if (started) return;
      started = true;
      try {
        await admin.connect();
        if (createTopics && ownerListener !== undefined) {
          await retryStartup(() => topicAdmin.ensureTopic(topics.login, topics.partitions));
          await retryStartup(() => topicAdmin.ensureTopic(topics.chat, topics.partitions));
        }
        await producer.connect();
        if (inboxListener !== undefined) await startInbox(inboxListener);
        if (ownerListener !== undefined) await startOwner(ownerListener);
      } catch (error) {
        throw toBusError(error, describeStartFailure(error, { ssl, sasl }));
      }
    },

    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      // Owner first: finish and commit in-flight records, leave the group so the
      // partitions move now rather than after a session timeout.
      await ownerGroup?.stop();
      await inboxConsumer?.stop();
      // The deletion is announced first, through the producer: before it stops.
      if (deleteInboxOnStop && inboxConsumer !== undefined) await deleteInbox(instanceId, 'stop');
      await producer.stop();
      await admin.disconnect().catch(() => undefined);
    },
  };
}
