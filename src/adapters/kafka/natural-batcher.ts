/**
 * Natural batching for produce calls: while one batch is in flight, new calls queue; when
 * it completes, everything queued goes out as the next batch. An idle producer sends at
 * once (no linger), a busy one sends fewer, larger requests — which is what lets one
 * kafkajs producer with one in-flight request per broker (needed for idempotence and
 * order) keep up with many concurrent handlers.
 *
 * Guarantees: items of one call stay together and in order; calls are sent in call order;
 * a call resolves only when the batch holding it was written, and rejects if that batch
 * failed (nothing is reported written that was not).
 */
export interface NaturalBatcher<T> {
  submit(items: readonly T[]): Promise<void>;
  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void>;
}

interface Waiting<T> {
  readonly items: readonly T[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export function createNaturalBatcher<T>({
  send,
  maxItems = 2_000,
}: {
  send: (items: T[]) => Promise<void>;
  /** Largest batch, in items (a single call larger than this still goes whole). Default 2000. */
  maxItems?: number;
}): NaturalBatcher<T> {
  let queue: Waiting<T>[] = [];
  let inFlight: Promise<void> | undefined;

  const pump = (): void => {
    if (inFlight !== undefined || queue.length === 0) return;
    const batch: Waiting<T>[] = [];
    let size = 0;
    while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.items.length <= maxItems)) {
      const next = queue.shift()!;
      batch.push(next);
      size += next.items.length;
    }
    inFlight = send(batch.flatMap((w) => w.items)).then(
      () => {
        for (const w of batch) w.resolve();
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
    void inFlight.finally(() => {
      inFlight = undefined;
      pump();
    });
  };

  return {
    submit(items) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        pump();
      });
    },
    async drain() {
      while (inFlight !== undefined || queue.length > 0) await (inFlight ?? Promise.resolve());
    },
  };
}
