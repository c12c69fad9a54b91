import type { AppendOutcome, ChatStore, NewMessage } from '../ports/chat-store';
import type { Metrics } from '../observability/metrics';

/**
 * Batched message writes for one owner: every partition's sends go into shared
 * `appendMessages` statements, one at a time. While one is in flight, new appends queue;
 * when it completes, everything queued (up to `maxBatch`) goes out as the next one. An idle
 * owner writes at once (the first append waits only for the end of the current event-loop
 * turn, so appends of partitions handled in that turn share it); a busy one writes fewer,
 * larger statements instead of queueing on the connection pool.
 *
 * Guarantees: appends are written in the order they were made (a partition's sends, which
 * it makes one at a time, keep their order); each caller gets its own entry's outcome; a
 * failed statement rejects every append in it, retriably, and the handlers retry them.
 */
export interface AppendBatcher {
  append(message: NewMessage): Promise<AppendOutcome>;
}

interface Pending {
  readonly message: NewMessage;
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
        for (const p of batch) p.reject(error);
      }
    }
    busy = false;
  };

  return {
    append(message) {
      return new Promise<AppendOutcome>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        if (busy) return;
        busy = true;
        setImmediate(() => void flush());
      });
    },
  };
}
