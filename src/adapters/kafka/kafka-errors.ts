import { ChatError, UnavailableError } from '../../domain/errors';

/**
 * kafkajs errors say whether they are retriable; keep that, in our hierarchy. Its
 * "retries exhausted" error is marked non-retriable but wraps a retriable cause (a broker
 * gone, too few in-sync replicas): for our callers that is still "try again later".
 */
export function toBusError(error: unknown, what: string): ChatError {
  if (error instanceof ChatError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const field = (e: unknown, key: 'retriable' | 'name' | 'cause'): unknown =>
    typeof e === 'object' && e !== null && key in e ? (e as Record<string, unknown>)[key] : undefined;
  const exhausted = field(error, 'name') === 'KafkaJSNumberOfRetriesExceeded' || field(error, 'name') === 'KafkaJSConnectionError';
  const retriable = exhausted || field(error, 'retriable') !== false || field(field(error, 'cause'), 'retriable') === true;
  return retriable
    ? new UnavailableError(`${what}: ${message}`, error)
    : new ChatError('INTERNAL', `${what}: ${message}`, { cause: error });
}

/** True for a kafkajs error that says so itself (not the wider reading of toBusError). */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
}

/**
 * Retries a setup step while Kafka says the error is retriable — typically metadata of a
 * topic created a moment ago that has not reached every broker yet — for up to `totalMs`.
 */
export async function retryStartup<T>(step: () => Promise<T>, totalMs = 30_000): Promise<T> {
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

/** UNKNOWN_TOPIC_OR_PARTITION anywhere in kafkajs's wrapping (its errors nest the protocol error as cause or originalError). */
export const isUnknownTopic = (error: unknown): boolean => {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { type, cause, originalError } = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    e = cause ?? originalError;
  }
  return false;
};
