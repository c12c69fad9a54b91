import { UnavailableError } from '../domain/errors';
import type { AppendOutcome, ChatStore, NewMessage } from '../ports/chat-store';
import type { Metrics } from '../observability/metrics';

/**
 * Batched message writes for one owner: the sends of every partition go into shared
 * `appendMessages` statements, one at a time. While one is in flight, new appends queue;
 * when it completes, everything queued (up to `maxBatch`) goes out as the next one. An idle
 * owner writes at once (the first append waits only for the end of the current event-loop
 * turn, so appends made in that turn share it); a busy one writes fewer, larger statements.
 * A partition does not wait for its send's write before its next record (the send's
 * output waits instead), so several sends of one partition can share a statement.
 *
 * Guarantees:
 * - order: appends are written in the order they were made, so the sends of a partition
 *   (its `lane`) get their sequence numbers in record order;
 * - each caller gets its own entry's outcome;
 * - no overtaking after a failure: a failed statement rejects, retriably, every append in
 *   it and every append queued behind it, and their lanes stop taking appends (each one is
 *   refused at once) until `resume(lane)`: the owner calls it when the bus goes back to
 *   the first record whose output was not written. Without this, a later send of the same
 *   partition could be written before an earlier one that is retried, out of order.
 */
export interface AppendBatcher {
  append(message: NewMessage, lane: number): Promise<AppendOutcome>;
  /** The lane's records are being handled again from the failed one on: take its appends again. */
  resume(lane: number): void;
}

interface Pending {
  readonly message: NewMessage;
  readonly lane: number;
  readonly resolve: (outcome: AppendOutcome) => void;
  readonly reject: (error: unknown) => void;
}

export function createAppendBatcher({
  store,
  metrics,
  maxBatch = 256,
}: {
  store: Pick<ChatStore, 'appendMessages'>;
  metrics?: Pick<Metrics, 'appendBatchSize'>;
  /** Most messages in one statement. Default 256. */
  maxBatch?: number;
}): AppendBatcher {
  let queue: Pending[] = [];
  let busy = false;
  const stopped = new Set<number>();

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      metrics?.appendBatchSize.observe(batch.length);
      try {
        const outcomes = await store.appendMessages(batch.map((p) => p.message));
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) p.reject(new Error(`appendMessages gave ${outcomes.length} outcomes for ${batch.length} messages`));
          else p.resolve(outcome);
        });
      } catch (error) {
        const failed = [...batch, ...queue];
        queue = [];
        for (const p of failed) {
          stopped.add(p.lane);
          p.reject(error);
        }
      }
    }
    busy = false;
  };

  return {
    append(message, lane) {
      if (stopped.has(lane))
        return Promise.reject(new UnavailableError('an earlier message write of this partition failed; it is handled again first'));
      return new Promise<AppendOutcome>((resolve, reject) => {
        queue.push({ message, lane, resolve, reject });
        if (busy) return;
        busy = true;
        setImmediate(() => void flush());
      });
    },
    resume(lane) {
      stopped.delete(lane);
    },
  };
}
