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
 *
 * With a deadline, no call waits longer than `deadline.ms` for its answer (a broker that
 * cannot reach min.insync.replicas holds a produce for its whole request timeout, times
 * kafkajs's retries; every caller would wait behind it in silence):
 * - `withdrawn`: the call was still queued at its deadline. It is removed from the queue
 *   and never sent: it was certainly not written.
 * - `unconfirmed`: its batch was in flight at the deadline. It may still be written.
 * - `stalled`: refused at once, because the batch in flight has been waiting longer than
 *   the deadline already; nothing of the call was sent.
 */
export type DeadlineOutcome = 'withdrawn' | 'unconfirmed' | 'stalled';

export interface NaturalBatcher<T> {
  submit(items: readonly T[]): Promise<void>;
  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void>;
}

interface Waiting<T> {
  readonly items: readonly T[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  timer?: NodeJS.Timeout;
  sent: boolean;
}

export function createNaturalBatcher<T>({
  send,
  maxItems = 2_000,
  deadline,
  now = Date.now,
}: {
  send: (items: T[]) => Promise<void>;
  /** Largest batch, in items (a single call larger than this still goes whole). Default 2000. */
  maxItems?: number;
  /** Longest wait for a call's answer, and the error it then gets. Default: none (wait for `send`). */
  deadline?: { ms: number; error: (outcome: DeadlineOutcome, ms: number) => Error };
  /** Clock in ms, for the stalled check. Default Date.now. */
  now?: () => number;
}): NaturalBatcher<T> {
  let queue: Waiting<T>[] = [];
  let inFlight: Promise<void> | undefined;
  /** When the batch in flight was handed to `send`; undefined once it has its answer. */
  let inFlightSince: number | undefined;

  const settle = (w: Waiting<T>, error?: unknown): void => {
    clearTimeout(w.timer);
    if (error === undefined) w.resolve();
    else w.reject(error);
  };

  const pump = (): void => {
    if (inFlight !== undefined || queue.length === 0) return;
    const batch: Waiting<T>[] = [];
    let size = 0;
    while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.items.length <= maxItems)) {
      const next = queue.shift()!;
      next.sent = true;
      batch.push(next);
      size += next.items.length;
    }
    inFlightSince = now();
    // A call already answered by its deadline is settled again here: a no-op for a promise.
    inFlight = send(batch.flatMap((w) => w.items)).then(
      () => {
        inFlightSince = undefined;
        for (const w of batch) settle(w);
      },
      (error: unknown) => {
        inFlightSince = undefined;
        for (const w of batch) settle(w, error);
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
        if (deadline !== undefined && inFlightSince !== undefined && now() - inFlightSince > deadline.ms) {
          reject(deadline.error('stalled', now() - inFlightSince));
          return;
        }
        const waiting: Waiting<T> = { items, resolve, reject, sent: false };
        if (deadline !== undefined) {
          waiting.timer = setTimeout(() => {
            if (!waiting.sent) queue = queue.filter((w) => w !== waiting);
            reject(deadline.error(waiting.sent ? 'unconfirmed' : 'withdrawn', deadline.ms));
          }, deadline.ms);
          waiting.timer.unref?.();
        }
        queue.push(waiting);
        pump();
      });
    },
    async drain() {
      while (inFlight !== undefined || queue.length > 0) await (inFlight ?? Promise.resolve());
    },
  };
}
