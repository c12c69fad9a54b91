/**
 * Which inbox topics exist, for the producer's sake.
 *
 * Inbox topics are deleted on purpose (an instance's own after a graceful drain; the
 * janitor's for instances long gone). A record for a deleted inbox can still be published:
 * an owner read the session directory a moment before the instance's sessions were
 * removed, or retries an output it failed to write. Nobody will ever read that record, so
 * it is dropped, counted (`chat_inbox_gone_total`) and logged. Producing it instead would
 * fail the whole sendBatch it shares with everyone else's records, over and over.
 *
 * A topic just created is not listed by every broker at once (KRaft metadata reaches the
 * brokers one by one, seconds apart on a loaded machine), and a listing asks one broker: so
 * "not listed" means gone only once it has lasted `absentGraceMs`. Until then the record is
 * produced as before (a produce to a topic a broker does not know yet fails retriably and
 * is retried). Dropping a new instance's first replies on one lagging listing would lose
 * them.
 *
 * Guarantees: a record for a topic that is not an inbox is never dropped; an inbox topic is
 * dropped only when it was retired (announced for deletion) or listings have not contained
 * it for at least `absentGraceMs`; when the listing fails, nothing else is dropped. An inbox once seen is believed to exist until
 * `invalidate()` (called when a produce fails), so the hot path costs nothing.
 */
export interface InboxPresence {
  /** The inbox topics among `topics` that are gone (missing for the grace period). */
  absent(topics: Iterable<string>): Promise<ReadonlySet<string>>;
  /**
   * The inbox topics among `topics` no listing has ever shown (and not retired): at
   * once, no listing. Records for them must not reach kafkajs before `settle`: a topic it
   * never had metadata for and that does not exist makes every metadata refresh of that
   * producer fail, so every send of the instance would stall with it.
   */
  unconfirmed(topics: Iterable<string>): ReadonlySet<string>;
  /**
   * Waits until each of `topics` is listed or gone (relisting every `relistMs`, at most
   * the grace period and one relisting more) and returns the gone ones. Waiters for one
   * topic share one wait, so they resume in the order they asked. If listings keep
   * failing it gives up at the deadline and returns what it knows (then the records are
   * produced, as before).
   */
  settle(topics: Iterable<string>): Promise<ReadonlySet<string>>;
  /** Forget which inboxes exist (a produce failed; one of them may have been deleted). */
  invalidate(): void;
  /**
   * The inbox is about to be deleted (its instance announced it, or the janitor did): gone
   * from now on, with no grace and no listing, until `revive`. A listing taken before the
   * deletion lands would still show it, so listings do not bring it back.
   */
  retire(topic: string): void;
  /** An inbox retired earlier was opened again (an instance restarted under the same id). */
  revive(topic: string): void;
}

export interface InboxPresenceOptions {
  /** Every topic of the cluster (admin.listTopics). */
  readonly listTopics: () => Promise<readonly string[]>;
  readonly isInbox: (topic: string) => boolean;
  /** How long an inbox must have been missing from listings to count as gone. Default 10 s. */
  readonly absentGraceMs?: number;
  /** How soon a missing inbox is listed again (at most one listing per this, per topic). Default 1 s. */
  readonly relistMs?: number;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
  /** Waits `ms` (settle's pace); a parameter for the unit test. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function createInboxPresence({
  listTopics,
  isInbox,
  absentGraceMs = 10_000,
  relistMs = 1_000,
  now = Date.now,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}: InboxPresenceOptions): InboxPresence {
  let present = new Set<string>();
  // Inboxes some listing has shown: kafkajs has had their metadata, so after an
  // `invalidate` they are checked again on the caller's path (a failed write rejects the
  // publish, and its caller retries), never held apart as if never seen.
  const seen = new Set<string>();
  const retired = new Set<string>();
  /** Missing inboxes: when first missed, and when last listed. */
  const missing = new Map<string, { since: number; listedAt: number }>();
  // One listing at a time, shared by every caller that needs one meanwhile.
  let listing: Promise<ReadonlySet<string> | undefined> | undefined;
  const list = (): Promise<ReadonlySet<string> | undefined> =>
    (listing ??= listTopics()
      .then((topics) => new Set(topics.filter(isInbox)) as ReadonlySet<string>)
      .catch(() => undefined)
      .finally(() => (listing = undefined)));
  /** One wait per unconfirmed topic, shared by every caller: resolves true when gone. */
  const waits = new Map<string, Promise<boolean>>();
  const goneBy = (topic: string, t: number): boolean => {
    const m = missing.get(topic);
    return m !== undefined && t - m.since >= absentGraceMs;
  };

  const isUnconfirmed = (topic: string): boolean => isInbox(topic) && !present.has(topic) && !seen.has(topic) && !retired.has(topic);
  const absent = async (topics: Iterable<string>): Promise<ReadonlySet<string>> => {
    const t = now();
    const toList: string[] = [];
    const gone = new Set<string>();
    for (const topic of new Set(topics)) {
      if (retired.has(topic)) {
        gone.add(topic);
        continue;
      }
      if (!isInbox(topic) || present.has(topic)) continue;
      const m = missing.get(topic);
      if (m !== undefined && t - m.listedAt < relistMs) {
        if (goneBy(topic, t)) gone.add(topic);
      } else toList.push(topic);
    }
    if (toList.length === 0) return gone;
    const existing = await list();
    if (existing === undefined) return gone; // cannot tell: produce, as before
    const at = now();
    present = new Set([...present, ...existing]);
    for (const topic of existing) seen.add(topic);
    for (const topic of toList) {
      if (existing.has(topic)) missing.delete(topic);
      else {
        missing.set(topic, { since: missing.get(topic)?.since ?? at, listedAt: at });
        if (goneBy(topic, at)) gone.add(topic);
      }
    }
    return gone;
  };
  const waitFor = (topic: string): Promise<boolean> => {
    const known = waits.get(topic);
    if (known !== undefined) return known;
    const deadline = now() + absentGraceMs + relistMs;
    const wait = (async (): Promise<boolean> => {
      for (;;) {
        if ((await absent([topic])).has(topic)) return true;
        if (!isUnconfirmed(topic) || now() >= deadline) return retired.has(topic);
        await sleep(relistMs);
      }
    })().finally(() => waits.delete(topic));
    waits.set(topic, wait);
    return wait;
  };

  return {
    absent,
    unconfirmed: (topics) => new Set([...topics].filter(isUnconfirmed)),
    async settle(topics) {
      const unique = [...new Set(topics)];
      const gone = await Promise.all(
        unique.map((t) => (retired.has(t) ? Promise.resolve(true) : isUnconfirmed(t) ? waitFor(t) : Promise.resolve(false))),
      );
      return new Set(unique.filter((_, i) => gone[i]));
    },
    invalidate() {
      present = new Set();
    },
    retire(topic) {
      if (!isInbox(topic)) return;
      retired.add(topic);
      present.delete(topic);
    },
    revive(topic) {
      retired.delete(topic);
      missing.delete(topic);
    },
  };
}
