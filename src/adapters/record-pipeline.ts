import type { z } from 'zod';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from '../domain/backoff';
import { ChatError, ValidationError, toChatError } from '../domain/errors';
import { Headers, type RecordHeaders } from '../protocol/headers';
import type { Handled, InboundRecord } from '../ports/bus';
import type { Logger } from '../observability/logger';

/**
 * The handling every consumer of every bus adapter shares: decode, validate, hand to the
 * listener, retry retriable failures with backoff, dead-letter the rest. Keeping it in one
 * place is what makes the Kafka and in-memory buses behave the same under failure.
 */

/** A record as it comes off the wire, before validation. */
export interface RawRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

export type Outcome = 'handled' | 'dead-lettered' | 'abandoned';

export interface PipelineResult {
  readonly outcome: Outcome;
  /**
   * Resolves when the record's output is durable: what the listener published for a
   * handled record (see `Handled`), at once for a dead-lettered one (its DLT write was
   * awaited) or an abandoned one (nothing to wait for; it is not committed).
   */
  readonly published: Promise<void>;
}

const settled = Promise.resolve();

/**
 * The record type for metric labels, read cheaply from the first bytes without parsing
 * the whole value; anything that does not look like one of our types (a poison record)
 * is 'unknown', so garbage cannot create label values.
 */
export function recordTypeLabel(value: Buffer | null): string {
  if (value === null) return 'unknown';
  const match = /"type"\s*:\s*"([a-z.]{1,40})"/.exec(value.subarray(0, 256).toString('utf8'));
  return match?.[1] ?? 'unknown';
}

export interface PipelineOptions<R> {
  readonly raw: RawRecord;
  readonly schema: z.ZodType<R>;
  readonly listener: (record: InboundRecord<R>) => Promise<Handled | void>;
  /** Writes the raw record to `<topic>.dlt` with the failure in headers; throws if it could not. */
  readonly deadLetter: (raw: RawRecord, error: ChatError, attempts: number) => Promise<void>;
  /** Keeps group membership alive while a record is retried. */
  readonly heartbeat: () => Promise<void>;
  /**
   * Heartbeat every `intervalMs` while one handler attempt runs, for at most `maxMs` of it.
   * kafkajs heartbeats only when asked, so without this a handler waiting on a stalled
   * database for longer than the session timeout gets its member evicted, and every
   * member it hands the partition to stalls on the same database: a rebalance storm. The
   * cap plays the part of the Java client's max.poll.interval.ms: a handler that hangs
   * for longer stops heartbeating, and the group moves its partitions to someone else.
   */
  readonly keepAlive?: { readonly intervalMs: number; readonly maxMs: number };
  /** False once the partition is revoked or the consumer stops: give up, leave it uncommitted. */
  readonly isActive: () => boolean;
  readonly logger: Logger;
  readonly backoff?: BackoffPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A handled record's output could not be written, so its partition goes back to it: back
 * off first (`failures` in a row on this partition), and say so. Both buses do this.
 */
export async function backOffUnwritten({
  failures,
  error,
  backoff,
  logger,
  where,
}: {
  failures: number;
  error: ChatError;
  backoff: BackoffPolicy | undefined;
  logger: Logger;
  /** Where: topic, partition, offset. */
  where: Readonly<Record<string, unknown>>;
}): Promise<void> {
  const delayMs = backoffDelay(failures, backoff ?? defaultBackoff);
  logger.warn({ ...where, code: error.code, err: error.message, delayMs }, 'output of a handled record was not written; handling it again');
  await sleep(delayMs);
}

/** Parses a raw record against `schema`; a ValidationError says why it cannot be handled. */
export function decodeRecord<R>(raw: RawRecord, schema: z.ZodType<R>): InboundRecord<R> {
  if (raw.value === null) throw new ValidationError('record has no value');
  let json: unknown;
  try {
    json = JSON.parse(raw.value.toString('utf8'));
  } catch {
    throw new ValidationError('record value is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError('record does not match the envelope schema', {
      issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
    });
  }
  const headers: Partial<Record<string, string>> = { ...raw.headers };
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key ?? '',
    record: parsed.data,
    headers: headers as RecordHeaders,
  };
}

/** The headers a dead-lettered record carries besides its own. */
export function deadLetterHeaders(raw: RawRecord, error: ChatError, attempts: number, now = new Date()): Record<string, string> {
  return {
    ...raw.headers,
    [Headers.dltOriginalTopic]: raw.topic,
    [Headers.dltOriginalPartition]: String(raw.partition),
    [Headers.dltOriginalOffset]: raw.offset,
    [Headers.dltErrorCode]: error.code,
    [Headers.dltErrorMessage]: error.message.slice(0, 500),
    [Headers.dltAttempts]: String(attempts),
    [Headers.dltFailedAt]: now.toISOString(),
  };
}

/** Runs `work`, heartbeating on a timer meanwhile (see PipelineOptions.keepAlive). */
async function withKeepAlive<T>(
  work: () => Promise<T>,
  heartbeat: () => Promise<void>,
  keepAlive: PipelineOptions<unknown>['keepAlive'],
  log: () => Logger,
): Promise<T> {
  if (keepAlive === undefined) return work();
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > keepAlive.maxMs) {
      clearInterval(timer);
      log().error({ maxMs: keepAlive.maxMs }, 'handler still running; heartbeats stop so the group can move the partition');
      return;
    }
    // A failed heartbeat (a rebalance under way) is seen again, and acted on, by the
    // consumer's own heartbeat after this record.
    heartbeat().catch((error: unknown) =>
      log().debug({ err: error instanceof Error ? error.message : String(error) }, 'keep-alive heartbeat failed'),
    );
  }, keepAlive.intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

export async function runPipeline<R>(options: PipelineOptions<R>): Promise<PipelineResult> {
  const { raw, schema, listener, deadLetter, heartbeat, isActive, logger, keepAlive } = options;
  const policy = options.backoff ?? defaultBackoff;
  const wait = options.sleep ?? sleep;
  // Made on first use: a pino child per record is measurable on the hot path (profiles),
  // and almost every record is handled without logging anything.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= logger.child({ topic: raw.topic, partition: raw.partition, offset: raw.offset }));
  const backOff = async (attempt: number, err: ChatError, what: string): Promise<void> => {
    const delayMs = backoffDelay(attempt, policy);
    log().warn({ code: err.code, err: err.message, attempt, delayMs }, `${what} failed (retriable); backing off`);
    await wait(delayMs);
    await heartbeat();
  };

  let failure: ChatError | undefined;
  let attempts = 1;
  let decoded: InboundRecord<R> | undefined;
  try {
    decoded = decodeRecord(raw, schema);
  } catch (error) {
    failure = toChatError(error);
  }

  // Handle, retrying retriable failures for as long as the partition stays ours.
  for (; decoded !== undefined && failure === undefined; attempts++) {
    const record = decoded;
    try {
      const handled = await withKeepAlive(() => listener(record), heartbeat, keepAlive, log);
      return { outcome: 'handled', published: handled?.published ?? settled };
    } catch (error) {
      const err = toChatError(error);
      if (!err.retriable) {
        failure = err;
        break;
      }
      if (!isActive()) return { outcome: 'abandoned', published: settled };
      await backOff(attempts, err, 'handler');
    }
  }

  // Poison: no retry of the handler can help. Dead-letter it; that write is retried, and
  // until it succeeds the offset stays uncommitted, so nothing is lost.
  const poison = failure ?? new ChatError('INTERNAL', 'record was neither handled nor failed');
  for (let dltAttempt = 1; ; dltAttempt++) {
    try {
      await deadLetter(raw, poison, attempts);
      log().warn({ code: poison.code, err: poison.message, attempts }, 'record dead-lettered');
      return { outcome: 'dead-lettered', published: settled };
    } catch (error) {
      if (!isActive()) return { outcome: 'abandoned', published: settled };
      await backOff(dltAttempt, toChatError(error), 'dead-letter write');
    }
  }
}
