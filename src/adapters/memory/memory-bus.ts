import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AnyRecordSchema, InboxRecordSchema, RequestRecordSchema } from '../../protocol/envelope';
import { dltTopicOf } from '../../protocol/headers';
import type { Bus, Handled, InboundRecord, InboxListener, OutboundRecord, OwnerGroupListener, OwnerGroupStatus } from '../../ports/bus';
import type { HealthCheck } from '../../ports/service';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { ValidationError, toChatError } from '../../domain/errors';
import type { BackoffPolicy } from '../../domain/backoff';
import { backOffUnwritten, deadLetterHeaders, recordTypeLabel, runPipeline, type RawRecord } from '../record-pipeline';
import { MemoryBroker, type GroupMember } from './memory-broker';
import { inboxGroupOf, inboxTopicOf, type TopicsConfig } from '../../protocol/topics';

export interface MemoryBusOptions {
  /** Shared by every simulated instance of one process. Default: a broker of its own. */
  broker?: MemoryBroker;
  instanceId: string;
  topics: TopicsConfig;
  logger: Logger;
  metrics: Metrics;
  /** Retry policy for retriable handler failures. Default: domain/backoff defaultBackoff. */
  backoff?: BackoffPolicy;
}

/** How long an idle partition worker waits before re-checking whether it should stop. */
const IDLE_POLL_MS = 100;

/** One consumer over a set of co-partitioned topics: a sequential worker per partition. */
class MemoryConsumer<R> implements GroupMember {
  readonly memberId = `member-${randomUUID()}`;
  private readonly workers = new Map<number, { active: boolean; done: Promise<void> }>();

  constructor(
    private readonly broker: MemoryBroker,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly schema: z.ZodType<R>,
    private readonly listener: (record: InboundRecord<R>) => Promise<Handled | void>,
    private readonly hooks: {
      onAssigned?: (partitions: readonly number[]) => void | Promise<void>;
      onRevoked?: (partitions: readonly number[]) => void | Promise<void>;
      onOutcome: (type: string, outcome: string) => void;
      /** Records left to handle in a partition after each one handled; `undefined` lag: no longer consumed. */
      onLag: (topic: string, partition: number, lag: number | undefined) => void;
      deadLetter: (raw: RawRecord, error: ValidationError, attempts: number) => Promise<void>;
      logger: Logger;
      backoff: BackoffPolicy | undefined;
    },
  ) {}

  owned(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  async assign(partitions: readonly number[]): Promise<void> {
    await this.hooks.onAssigned?.(partitions);
    for (const p of partitions) {
      const state = { active: true, done: Promise.resolve() };
      state.done = Promise.all(this.topics.map((t) => this.run(t, p, state))).then(() => undefined);
      this.workers.set(p, state);
    }
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    const stopping = partitions.map((p) => this.workers.get(p)).filter((w) => w !== undefined);
    for (const w of stopping) w.active = false;
    await Promise.all(stopping.map((w) => w.done));
    for (const p of partitions) this.workers.delete(p);
    for (const p of partitions) for (const t of this.topics) this.hooks.onLag(t, p, undefined);
    await this.hooks.onRevoked?.(partitions);
  }

  private async run(topic: string, partition: number, state: { active: boolean }): Promise<void> {
    if (partition >= this.broker.partitionCount(topic)) return;
    let position = this.broker.committed(this.groupId, topic, partition);
    let produceFailures = 0;
    while (state.active) {
      const stored = this.broker.read(topic, partition, position);
      if (stored === undefined) {
        await this.broker.waitForAppend(topic, partition, IDLE_POLL_MS);
        continue;
      }
      const raw: RawRecord = { topic, partition, offset: String(position), ...stored };
      const { outcome, published } = await runPipeline({
        raw,
        schema: this.schema,
        listener: this.listener,
        deadLetter: this.hooks.deadLetter,
        heartbeat: async () => undefined,
        isActive: () => state.active,
        logger: this.hooks.logger,
        ...(this.hooks.backoff === undefined ? {} : { backoff: this.hooks.backoff }),
      });
      this.hooks.onOutcome(recordTypeLabel(stored.value), outcome);
      if (outcome === 'abandoned') return;
      try {
        // One record at a time here: the in-memory broker writes at once, so there is
        // nothing to overlap. Output that could not be written means: handle it again.
        await published;
        produceFailures = 0;
      } catch (error) {
        produceFailures++;
        await backOffUnwritten({
          failures: produceFailures,
          error: toChatError(error),
          backoff: this.hooks.backoff,
          logger: this.hooks.logger,
          where: { topic, partition, offset: position },
        });
        continue;
      }
      position++;
      this.broker.commit(this.groupId, topic, partition, position);
      this.hooks.onLag(topic, partition, this.broker.endOffset(topic, partition) - position);
    }
  }
}

/**
 * The in-memory bus: the same contract as the Kafka bus, for unit tests and for the
 * single-process default (`npm start` with no KAFKA_BROKERS).
 */
export function createMemoryBus({ broker = new MemoryBroker(), instanceId, topics, logger, metrics, backoff }: MemoryBusOptions): Bus {
  const inboxTopic = (id: string): string => inboxTopicOf(topics, id);
  let owner: MemoryConsumer<z.infer<typeof RequestRecordSchema>> | undefined;
  let inbox: MemoryConsumer<z.infer<typeof InboxRecordSchema>> | undefined;
  let ownerState: OwnerGroupStatus['state'] = 'idle';
  let started = false;
  const log = logger.child({ component: 'memory-bus' });

  broker.createTopic(topics.login, topics.partitions);
  broker.createTopic(topics.chat, topics.partitions);

  const deadLetter = async (raw: RawRecord, error: ValidationError, attempts: number): Promise<void> => {
    broker.createTopic(dltTopicOf(raw.topic), broker.partitionCount(raw.topic));
    broker.append(dltTopicOf(raw.topic), {
      key: raw.key,
      value: raw.value ?? Buffer.alloc(0),
      headers: deadLetterHeaders(raw, error, attempts),
    });
  };
  const outcomeCounter = (source: string) => (type: string, outcome: string) => metrics.recordsConsumed.inc({ source, type, outcome });
  const lagGauge = (source: string) => (topic: string, partition: number, lag: number | undefined) => {
    const labels = { source, topic, partition: String(partition) };
    if (lag === undefined) metrics.consumerLag.remove(labels);
    else metrics.consumerLag.set(labels, lag);
  };

  let ownerListener: OwnerGroupListener | undefined;
  let inboxListener: InboxListener | undefined;

  return {
    kind: 'memory',
    inboxTopicOf: inboxTopic,

    async publish(records: readonly OutboundRecord[]): Promise<void> {
      // Validate everything first: a batch is written whole or not at all.
      for (const r of records) {
        const parsed = AnyRecordSchema.safeParse(r.record);
        if (!parsed.success) throw new ValidationError(`refusing to produce an invalid ${r.record.type} record`);
      }
      for (const r of records) {
        broker.append(r.topic, { key: r.key, value: Buffer.from(JSON.stringify(r.record)), headers: { ...r.headers } });
        metrics.recordsProduced.inc({ type: r.record.type });
      }
    },

    openInbox(listener: InboxListener): void {
      inboxListener = listener;
    },

    joinOwnerGroup(listener: OwnerGroupListener): void {
      ownerListener = listener;
    },

    ownerStatus(): OwnerGroupStatus {
      return { state: ownerState, memberId: owner?.memberId, partitions: owner?.owned() ?? [] };
    },

    async health(): Promise<HealthCheck> {
      return started ? { ok: true, detail: 'in-memory bus' } : { ok: false, detail: 'not started' };
    },

    async start(): Promise<void> {
      if (started) return;
      started = true;
      if (inboxListener !== undefined) {
        const topic = inboxTopic(instanceId);
        broker.createTopic(topic, 1);
        broker.createTopic(topics.broadcast, 1);
        // Like the Kafka bus: broadcasts from now on, not the whole history.
        broker.commit(inboxGroupOf(topics, instanceId), topics.broadcast, 0, broker.endOffset(topics.broadcast, 0));
        inbox = new MemoryConsumer(broker, inboxGroupOf(topics, instanceId), [topic, topics.broadcast], InboxRecordSchema, inboxListener, {
          onOutcome: outcomeCounter('inbox'),
          onLag: lagGauge('inbox'),
          deadLetter,
          logger: log,
          backoff,
        });
        await broker.join(inboxGroupOf(topics, instanceId), [topic, topics.broadcast], inbox);
      }
      if (ownerListener !== undefined) {
        const listener = ownerListener;
        ownerState = 'joining';
        owner = new MemoryConsumer(broker, topics.ownerGroup, [topics.login, topics.chat], RequestRecordSchema, listener.onRecord, {
          onAssigned: listener.onAssigned,
          onRevoked: listener.onRevoked,
          onOutcome: outcomeCounter('owner'),
          onLag: lagGauge('owner'),
          deadLetter,
          logger: log,
          backoff,
        });
        await broker.join(topics.ownerGroup, [topics.login, topics.chat], owner);
        ownerState = 'joined';
      }
    },

    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      if (owner !== undefined) await broker.leave(topics.ownerGroup, owner.memberId);
      if (inbox !== undefined) await broker.leave(inboxGroupOf(topics, instanceId), inbox.memberId);
      ownerState = 'stopped';
    },
  };
}
