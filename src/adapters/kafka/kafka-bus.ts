import { Kafka, Partitioners, logLevel as KafkaLogLevel, type Admin, type Consumer, type EachBatchPayload, type IHeaders, type Producer, type LogEntry } from 'kafkajs';
import type { z } from 'zod';
import { AnyRecordSchema, InboxRecordSchema, RequestRecordSchema } from '../../protocol/envelope';
import { dltTopicOf } from '../../protocol/headers';
import { ChatError, TimeoutError, UnavailableError, ValidationError } from '../../domain/errors';
import { assertNever } from '../../domain/assert-never';
import type { BackoffPolicy } from '../../domain/backoff';
import type { Bus, Handled, InboundRecord, InboxListener, OutboundRecord, OwnerGroupListener, OwnerGroupStatus } from '../../ports/bus';
import type { HealthCheck } from '../../ports/service';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { backOffUnwritten, deadLetterHeaders, recordTypeLabel, runPipeline, type RawRecord } from '../record-pipeline';
import { createCoPartitionAssigner } from './co-partition-assigner';
import { createNaturalBatcher } from './natural-batcher';

export interface KafkaBusOptions {
  instanceId: string;
  brokers: readonly string[];
  /** Default 'keyed-chat'; the instance id is appended so broker logs tell instances apart. */
  clientId?: string;
  topics: { login: string; chat: string; inboxPrefix: string; ownerGroup: string; broadcast: string; partitions: number };
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
   * Defaults 1 byte and 250 ms: every fetch answers as soon as one record is there (lowest
   * latency, most fetch requests under load).
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  logger: Logger;
  metrics: Metrics;
}

function headerValue(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

function toRaw(topic: string, partition: number, m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders }): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const s = headerValue(v);
    if (s !== undefined) headers[k] = s;
  }
  return { topic, partition, offset: m.offset, key: m.key === null ? null : m.key.toString('utf8'), value: m.value, headers };
}

/**
 * kafkajs errors say whether they are retriable; keep that, in our hierarchy. Its
 * "retries exhausted" error is marked non-retriable but wraps a retriable cause (a broker
 * gone, too few in-sync replicas): for our callers that is still "try again later".
 */
function toBusError(error: unknown, what: string): ChatError {
  if (error instanceof ChatError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const field = (e: unknown, key: 'retriable' | 'name' | 'cause'): unknown => (typeof e === 'object' && e !== null && key in e ? (e as Record<string, unknown>)[key] : undefined);
  const exhausted = field(error, 'name') === 'KafkaJSNumberOfRetriesExceeded' || field(error, 'name') === 'KafkaJSConnectionError';
  const retriable = exhausted || field(error, 'retriable') !== false || field(field(error, 'cause'), 'retriable') === true;
  return retriable ? new UnavailableError(`${what}: ${message}`, error) : new ChatError('INTERNAL', `${what}: ${message}`, { cause: error });
}

function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
}

/**
 * Retries a setup step while Kafka says the error is retriable — typically metadata of a
 * topic created a moment ago that has not reached every broker yet — for up to `totalMs`.
 */
async function retryStartup<T>(step: () => Promise<T>, totalMs = 30_000): Promise<T> {
  const deadline = Date.now() + totalMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isRetriable(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)));
    }
  }
}

function kafkaLogCreator(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry): void => {
      const { message, ...rest } = entry;
      // kafkajs logs protocol errors it is about to retry (a young topic's metadata, a
      // coordinator still loading) as errors; they are warnings here. Failures that
      // survive its retries reach our code, which logs them as errors.
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) log.warn(rest, message);
      else if (level === KafkaLogLevel.INFO) log.debug(rest, message);
      else log.trace(rest, message);
    };
}

/**
 * The Kafka bus (kafkajs): an idempotent producer with acks=all; the owner group over the
 * request topics with the co-partitioning assignor and manual commits after each handled
 * record; and this instance's inbox topic, read only by this instance's own group.
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
  fetchMaxWaitMs = 250,
  logger,
  metrics,
}: KafkaBusOptions): Bus {
  const log = logger.child({ component: 'kafka-bus' });
  const kafka = new Kafka({
    clientId: `${clientId}-${instanceId}`,
    brokers: [...brokers],
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(logger),
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    connectionTimeout: 3_000,
  });
  const inboxTopic = (id: string): string => `${topics.inboxPrefix}.${id}`;
  const admin: Admin = kafka.admin();
  type Wire = { topic: string; key: string; value: string; headers: Record<string, string> };
  // maxInFlightRequests 1 keeps per-partition order under retries, as idempotence requires in kafkajs.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // murmur2, like the Java client: domain/partitioner computes the same partition. Where
    // the messages of a sendBatch go is noted for sendWhole's check.
    createPartitioner: () => {
      const murmur2 = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = murmur2(args);
        placing?.get(args.topic)?.add(partition);
        return partition;
      };
    },
  });

  /**
   * One sendBatch, checked, and sent again whole until it succeeds or produceTimeoutMs has
   * passed. kafkajs retries a failed sendBatch only towards the brokers that have not
   * answered yet (its producer/sendMessages.js keeps their responses across attempts): when
   * a dead leader's partitions move to a broker that already answered, their messages are
   * never sent and sendBatch still resolves -- a silent loss, seen in
   * test/faults/broker-leader-loss as a send never acked (tulios/kafkajs PR #1798). So the
   * answer must name every partition the messages went to; if one is missing, the whole
   * batch goes again. Records already written are then written twice, with the same ids
   * (at-least-once, which every consumer here handles).
   */
  let placing: Map<string, Set<number>> | undefined;
  const sendWhole = async (topicMessages: { topic: string; messages: { key: string; value: string; headers: Record<string, string> }[] }[]): Promise<void> => {
    const deadline = Date.now() + produceTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        // Only one sendBatch runs at a time (the batcher), so `placing` is this one's
        // (dead-letter writes use the producer too, but never these topics).
        placing = new Map(topicMessages.map(({ topic }) => [topic, new Set<number>()]));
        const written = await producer.sendBatch({ acks: -1, timeout: produceTimeoutMs, topicMessages });
        const missing = [...placing].flatMap(([topic, partitions]) => [...partitions].filter((p) => !written.some((w) => w.topicName === topic && w.partition === p)).map((p) => `${topic}[${p}]`));
        if (missing.length > 0) {
          log.warn({ missing, attempt }, 'kafkajs reported a batch written but never sent to some partitions; sending it again');
          throw new UnavailableError(`produce answered without ${missing.join(', ')}`);
        }
        return;
      } catch (error) {
        const delayMs = Math.min(1_000, 100 * 2 ** (attempt - 1));
        if (!toBusError(error, 'produce failed').retriable || Date.now() + delayMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      } finally {
        placing = undefined;
      }
    }
  };

  // One sendBatch per round trip, whatever the number of concurrent publishers. No publish
  // waits longer than produceTimeoutMs: a queued one is withdrawn (never written), an
  // in-flight one may still be written (TIMEOUT: the caller retries with the same ids).
  const batcher = createNaturalBatcher<Wire>({
    deadline: {
      ms: produceTimeoutMs,
      error: (outcome, ms) => {
        switch (outcome) {
          case 'unconfirmed':
            return new TimeoutError(`produce not acknowledged within ${ms} ms (it may still be written)`);
          case 'withdrawn':
            return new UnavailableError(`produce not sent within ${ms} ms: Kafka is not acknowledging writes`);
          case 'stalled':
            return new UnavailableError(`produce refused: Kafka has not acknowledged a write for ${ms} ms`);
          default:
            return assertNever(outcome, 'deadline outcome');
        }
      },
    },
    send: async (items) => {
      const byTopic = new Map<string, Wire[]>();
      for (const w of items) {
        const list = byTopic.get(w.topic);
        if (list === undefined) byTopic.set(w.topic, [w]);
        else list.push(w);
      }
      await sendWhole([...byTopic].map(([topic, messages]) => ({ topic, messages: messages.map(({ key, value, headers }) => ({ key, value, headers })) })));
    },
  });

  let ownerListener: OwnerGroupListener | undefined;
  let inboxListener: InboxListener | undefined;
  let ownerConsumer: Consumer | undefined;
  let inboxConsumer: Consumer | undefined;
  let ownerState: OwnerGroupStatus['state'] = 'idle';
  let memberId: string | undefined;
  // Partitions whose records this member may handle now. Emptied when it (re)joins the
  // group, so no record is handled while partitions may be moving; `held` remembers them
  // until the new assignment says which were kept and which were revoked.
  let owned = new Set<number>();
  let held = new Set<number>();
  // Newly assigned partitions whose onAssigned (the owner's eager state load) has not
  // settled: their records wait for it, heartbeating, so they are handled with the state.
  const preparing = new Map<number, Promise<void>>();
  let started = false;
  let producerConnected = false;
  let inboxState: 'idle' | 'joined' | 'crashed' = 'idle';
  // A consumer that crashes (say, on metadata of a topic created a moment ago) restarts
  // itself, quickly: while it is down, replies to this instance wait.
  const consumerRetry = { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000, restartOnFailure: async () => true };

  /**
   * Creates a topic if it is missing and waits until every partition has a leader. Two
   * instances may race to create it; the loser sees it exist, which is fine.
   */
  // Topics known to exist with leaders: a dead-letter write does not ask the cluster again.
  const ensured = new Set<string>();
  const ensureTopic = async (topic: string, numPartitions: number): Promise<void> => {
    if (ensured.has(topic)) return;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            numPartitions,
            replicationFactor,
            configEntries: [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }],
          },
        ],
      });
    }
    // Metadata lags creation on other brokers ("does not host this topic-partition"): poll, bounded.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics: [meta] } = await admin.fetchTopicMetadata({ topics: [topic] });
        if (meta !== undefined && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0)) {
          ensured.add(topic);
          return;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new UnavailableError(`topic ${topic} has no leader for every partition after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const produceRaw = async (topic: string, raw: RawRecord, headers: Record<string, string>): Promise<void> => {
    await producer.send({ topic, acks: -1, messages: [{ key: raw.key, value: raw.value, headers }] });
  };

  const deadLetter = async (raw: RawRecord, error: ChatError, attempts: number): Promise<void> => {
    const dlt = dltTopicOf(raw.topic);
    await ensureTopic(dlt, raw.topic === topics.login || raw.topic === topics.chat ? topics.partitions : 1);
    await produceRaw(dlt, raw, deadLetterHeaders(raw, error, attempts));
  };

  // Records of one partition handled but whose output is still being written, at most
  // this many: past it the partition waits for the oldest (memory stays bounded).
  const MAX_PENDING = 500;
  // Consecutive failed produces per topic-partition, for the back-off before handling again.
  const produceFailures = new Map<string, number>();

  /**
   * Waits until `done` settles (resolved or rejected: the caller looks at which),
   * heartbeating every heartbeat interval while the partition is active, so the group
   * does not evict this member meanwhile. Once the partition is no longer active, it
   * gives up (false) with `stopWhenInactive`, or else goes on waiting without
   * heartbeats: output being written when the consumer stops is waited for, so its
   * offset is committed and the next owner does not handle it again.
   */
  const awaitHeartbeating = async (
    done: Promise<unknown>,
    heartbeat: () => Promise<void>,
    active: () => boolean,
    { stopWhenInactive }: { stopWhenInactive: boolean },
  ): Promise<boolean> => {
    let settled = false;
    const over = done.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    while (!settled) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([over, new Promise<void>((resolve) => (timer = setTimeout(resolve, heartbeatIntervalMs)))]).finally(() => clearTimeout(timer));
      if (settled) break;
      if (!active()) {
        if (stopWhenInactive) return false;
        continue;
      }
      await heartbeat();
    }
    return true;
  };

  const consumeBatch = <R>(
    source: 'owner' | 'inbox',
    schema: z.ZodType<R>,
    listener: (record: InboundRecord<R>) => Promise<Handled | void>,
  ) =>
    async ({ batch, heartbeat, isRunning, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> => {
      const { topic, partition } = batch;
      const tp = `${topic}:${partition}`;
      const active = (): boolean => isRunning() && (source === 'inbox' || owned.has(partition));
      let handled: string | undefined;
      // Pipelining: a record's handler returns as soon as its output is handed to the
      // producer, and the partition goes on; its offset is resolved only once that output
      // is written, oldest first, so the committed offset never passes unwritten output.
      const pending: { offset: string; published: Promise<void> }[] = [];
      let produceFailure: ChatError | undefined;
      const settle = async (keep: number): Promise<void> => {
        while (produceFailure === undefined && pending.length > keep) {
          const head = pending[0]!;
          // Output may wait on the database (a send's write) as well as on Kafka: keep
          // heartbeating meanwhile, as during a handler (see PipelineOptions.keepAlive).
          await awaitHeartbeating(head.published, heartbeat, active, { stopWhenInactive: false });
          try {
            await head.published;
          } catch (error) {
            produceFailure = toBusError(error, 'produce of handled output failed');
            return;
          }
          pending.shift();
          resolveOffset(head.offset);
          handled = head.offset;
        }
      };
      // Commit what was handled: at the end of the batch, and before giving up on it. A
      // crash redoes at most the uncommitted rest of one batch (duplicates keep their ids).
      const commit = async (): Promise<void> => {
        if (handled === undefined) return;
        const offset = (BigInt(handled) + 1n).toString();
        handled = undefined;
        try {
          // The batch's own commit, not consumer.commitOffsets: kafkajs drops the latter
          // silently once the consumer is stopping, which is exactly when it matters.
          await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
        } catch (error) {
          // The records stay handled; whoever owns the partition next handles them again.
          log.warn({ topic, partition, offset, err: error instanceof Error ? error.message : String(error) }, 'offset commit failed');
          throw error;
        }
      };
      try {
        const preparation = source === 'owner' ? preparing.get(partition) : undefined;
        if (preparation !== undefined && !(await awaitHeartbeating(preparation, heartbeat, active, { stopWhenInactive: true }))) return;
        for (const message of batch.messages) {
          if (!active() || produceFailure !== undefined) break;
          const raw = toRaw(topic, partition, message);
          const { outcome, published } = await runPipeline({
            raw,
            schema,
            listener,
            deadLetter,
            heartbeat,
            keepAlive: { intervalMs: heartbeatIntervalMs, maxMs: maxHandlerMs },
            isActive: active,
            logger: log,
            ...(backoff === undefined ? {} : { backoff }),
          });
          metrics.recordsConsumed.inc({ source, type: recordTypeLabel(raw.value), outcome });
          if (outcome === 'abandoned') break;
          // Observed by settle(); never an unhandled rejection in between.
          published.catch(() => undefined);
          pending.push({ offset: message.offset, published });
          if (pending.length > MAX_PENDING) await settle(MAX_PENDING / 2);
          // Cheap: the fetch response carries the high watermark, no admin round trip.
          metrics.consumerLag.set({ source, topic, partition: String(partition) }, Number(BigInt(batch.highWatermark) - BigInt(message.offset) - 1n));
          await heartbeat();
        }
        await settle(0);
        if (produceFailure === undefined) {
          produceFailures.delete(tp);
        } else {
          // The first record whose output was not written keeps its offset unresolved, so
          // kafkajs fetches it again and it is handled again (so are the ones after it:
          // their output may then appear twice, with the same ids).
          const failures = (produceFailures.get(tp) ?? 0) + 1;
          produceFailures.set(tp, failures);
          await backOffUnwritten({ failures, error: produceFailure, backoff, logger: log, where: { topic, partition, offset: pending[0]?.offset } });
          await heartbeat();
        }
      } finally {
        // Also when a heartbeat threw (a rebalance began): what was written is committed
        // now, or the next owner handles it again.
        await settle(0);
        await commit();
      }
    };

  // The per-record lag gauge stands still while a partition waits on one record (a stalled
  // database), which is exactly when lag matters. So the lag of owned partitions is also
  // re-read from Kafka every lagRefreshMs: high watermark minus the group's committed
  // offset, what kafka-consumer-groups --describe shows.
  let lagTimer: NodeJS.Timeout | undefined;
  const refreshLag = async (): Promise<void> => {
    if (owned.size === 0) return;
    const requestTopics = [topics.login, topics.chat];
    const [committed, ...ends] = await Promise.all([
      admin.fetchOffsets({ groupId: topics.ownerGroup, topics: requestTopics }),
      ...requestTopics.map((t) => admin.fetchTopicOffsets(t)),
    ]);
    requestTopics.forEach((topic, k) => {
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends[k] ?? []) {
        if (!owned.has(end.partition)) continue;
        const offset = Number(done.find((p) => p.partition === end.partition)?.offset ?? -1);
        // No commit yet: the group reads from the beginning (fromBeginning), so all of it is lag.
        const from = offset >= 0 ? offset : Number(end.low);
        metrics.consumerLag.set({ source: 'owner', topic, partition: String(end.partition) }, Math.max(0, Number(end.high) - from));
      }
    });
  };

  const startOwner = async (listener: OwnerGroupListener): Promise<void> => {
    const consumer = kafka.consumer({
      groupId: topics.ownerGroup,
      partitionAssigners: [
        createCoPartitionAssigner({
          instanceId,
          onJoin: () => {
            for (const p of owned) held.add(p);
            owned = new Set();
            ownerState = 'joining';
            return [...held].sort((a, b) => a - b);
          },
          onMismatch: (counts) => log.error({ counts }, 'request topics differ in partition count: co-partitioning is broken'),
        }),
      ],
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      rebalanceTimeout: rebalanceTimeoutMs,
      minBytes: fetchMinBytes,
      maxWaitTimeInMs: fetchMaxWaitMs,
      allowAutoTopicCreation: false,
      retry: consumerRetry,
    });
    ownerConsumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      memberId = payload.memberId;
      const next = new Set<number>();
      for (const parts of Object.values(payload.memberAssignment)) for (const p of parts) next.add(p);
      const previous = new Set([...held, ...owned]);
      const revoked = [...previous].filter((p) => !next.has(p)).sort((a, b) => a - b);
      const assigned = [...next].filter((p) => !previous.has(p)).sort((a, b) => a - b);
      held = new Set();
      owned = next;
      ownerState = 'joined';
      metrics.ownerGroupJoins.inc();
      log.info(
        { event: 'partitions.assigned', memberId, partitions: [...next].sort((a, b) => a - b), byTopic: payload.memberAssignment, revoked, assigned },
        'owner group joined',
      );
      // Records of revoked partitions stopped being handled when this member rejoined
      // (onJoin), so dropping their users' state now races with nothing.
      for (const p of revoked) for (const t of [topics.login, topics.chat]) metrics.consumerLag.remove({ source: 'owner', topic: t, partition: String(p) });
      if (revoked.length > 0) void Promise.resolve(listener.onRevoked(revoked)).catch((err) => log.error({ err }, 'onRevoked failed'));
      if (assigned.length > 0) {
        const ready = Promise.resolve(listener.onAssigned(assigned)).catch((err: unknown) => log.error({ err }, 'onAssigned failed'));
        for (const p of assigned) preparing.set(p, ready);
        void ready.finally(() => {
          for (const p of assigned) if (preparing.get(p) === ready) preparing.delete(p);
        });
      }
    });
    consumer.on(consumer.events.REBALANCING, () => {
      ownerState = 'joining';
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      ownerState = 'joining';
      log.error({ err: payload.error?.message, restart: payload.restart }, 'owner consumer crashed');
    });
    ownerState = 'joining';
    await consumer.connect();
    await retryStartup(() => consumer.subscribe({ topics: [topics.login, topics.chat], fromBeginning: true }));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, topics.partitions * 2),
      eachBatch: consumeBatch('owner', RequestRecordSchema, listener.onRecord),
    });
    lagTimer = setInterval(() => void refreshLag().catch((error: unknown) => log.debug({ err: error instanceof Error ? error.message : String(error) }, 'lag refresh failed')), lagRefreshMs);
    lagTimer.unref();
  };

  const startInbox = async (listener: InboxListener): Promise<void> => {
    const topic = inboxTopic(instanceId);
    await retryStartup(() => ensureTopic(topic, 1));
    // One partition keeps cluster-wide frames (announcements) in one order everywhere.
    await retryStartup(() => ensureTopic(topics.broadcast, 1));
    const consumer = kafka.consumer({
      groupId: `${topics.inboxPrefix}-${instanceId}`,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      minBytes: fetchMinBytes,
      maxWaitTimeInMs: fetchMaxWaitMs,
      allowAutoTopicCreation: false,
      retry: consumerRetry,
    });
    inboxConsumer = consumer;
    let joined!: () => void;
    const joinedPromise = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      inboxState = 'joined';
      joined();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      inboxState = 'crashed';
      log.warn({ err: payload.error?.message, restart: payload.restart }, 'inbox consumer crashed');
    });
    await consumer.connect();
    // The inbox from the beginning of what this group has not committed: a reply produced
    // while the consumer was still joining is not skipped. The broadcast topic is shared by
    // all instances; its group offsets are this instance's own.
    await retryStartup(() => consumer.subscribe({ topics: [topic], fromBeginning: true }));
    await retryStartup(() => consumer.subscribe({ topics: [topics.broadcast], fromBeginning: false }));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: consumeBatch('inbox', InboxRecordSchema, listener),
    });
    // Bounded: a consumer that cannot join fails the start instead of hanging it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      joinedPromise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UnavailableError(`inbox consumer did not join within ${rebalanceTimeoutMs + 30_000} ms`)), rebalanceTimeoutMs + 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
  };

  return {
    kind: 'kafka',
    inboxTopicOf: inboxTopic,

    async publish(records: readonly OutboundRecord[]): Promise<void> {
      if (records.length === 0) return;
      for (const r of records) {
        if (!AnyRecordSchema.safeParse(r.record).success) {
          throw new ValidationError(`refusing to produce an invalid ${r.record.type} record`);
        }
      }
      if (!producerConnected) throw new UnavailableError('the Kafka producer is not connected');
      const wire: Wire[] = records.map((r) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k] = v;
        return { topic: r.topic, key: r.key, value: JSON.stringify(r.record), headers };
      });
      try {
        await batcher.submit(wire);
      } catch (error) {
        throw toBusError(error, 'produce failed');
      }
      for (const r of records) metrics.recordsProduced.inc({ type: r.record.type });
    },

    openInbox(listener: InboxListener): void {
      inboxListener = listener;
    },

    joinOwnerGroup(listener: OwnerGroupListener): void {
      ownerListener = listener;
    },

    ownerStatus(): OwnerGroupStatus {
      return { state: ownerState, memberId, partitions: [...owned].sort((a, b) => a - b) };
    },

    async health(): Promise<HealthCheck> {
      if (!started) return { ok: false, detail: 'not started' };
      if (inboxListener !== undefined && inboxState !== 'joined') return { ok: false, detail: `inbox consumer ${inboxState}` };
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
          await retryStartup(() => ensureTopic(topics.login, topics.partitions));
          await retryStartup(() => ensureTopic(topics.chat, topics.partitions));
        }
        await producer.connect();
        producerConnected = true;
        producer.on(producer.events.DISCONNECT, () => (producerConnected = false));
        producer.on(producer.events.CONNECT, () => (producerConnected = true));
        if (inboxListener !== undefined) await startInbox(inboxListener);
        if (ownerListener !== undefined) await startOwner(ownerListener);
      } catch (error) {
        throw toBusError(error, 'Kafka bus start failed');
      }
    },

    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      clearInterval(lagTimer);
      // Owner first: finish and commit in-flight records, leave the group so the
      // partitions move now rather than after a session timeout.
      if (ownerConsumer !== undefined) {
        await ownerConsumer.disconnect().catch((err: unknown) => log.warn({ err }, 'owner consumer disconnect failed'));
        const revoked = [...new Set([...held, ...owned])];
        owned = new Set();
        held = new Set();
        ownerState = 'stopped';
        if (revoked.length > 0 && ownerListener !== undefined) await ownerListener.onRevoked(revoked);
      }
      if (inboxConsumer !== undefined) await inboxConsumer.disconnect().catch((err: unknown) => log.warn({ err }, 'inbox consumer disconnect failed'));
      await batcher.drain();
      producerConnected = false;
      await producer.disconnect().catch((err: unknown) => log.warn({ err }, 'producer disconnect failed'));
      await admin.disconnect().catch(() => undefined);
    },
  };
}
