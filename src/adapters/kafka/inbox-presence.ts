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
 * Guarantees: a record for a topic that is not an inbox is never dropped; an inbox topic
 * is dropped only after a listing of the cluster's topics did not contain it (at most
 * `absentForMs` ago); when the listing fails, nothing is dropped. An inbox once seen is
 * believed to exist until `invalidate()` (called when a produce fails), so the hot path
 * costs nothing.
 */
export interface InboxPresence {
  /** The inbox topics among `topics` that do not exist. */
  absent(topics: Iterable<string>): Promise<ReadonlySet<string>>;
  /** Forget which inboxes exist (a produce failed; one of them may have been deleted). */
  invalidate(): void;
}

export interface InboxPresenceOptions {
  /** Every topic of the cluster (admin.listTopics). */
  readonly listTopics: () => Promise<readonly string[]>;
  readonly isInbox: (topic: string) => boolean;
  /** How long a missing inbox is believed missing before the cluster is asked again. Default 5 s. */
  readonly absentForMs?: number;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
}

export function createInboxPresence({ listTopics, isInbox, absentForMs = 5_000, now = Date.now }: InboxPresenceOptions): InboxPresence {
  let present = new Set<string>();
  const absentUntil = new Map<string, number>();
  // One listing at a time, shared by every caller that needs one meanwhile.
  let listing: Promise<ReadonlySet<string> | undefined> | undefined;
  const list = (): Promise<ReadonlySet<string> | undefined> =>
    (listing ??= listTopics()
      .then((topics) => new Set(topics.filter(isInbox)) as ReadonlySet<string>)
      .catch(() => undefined)
      .finally(() => (listing = undefined)));

  return {
    async absent(topics) {
      const t = now();
      const unknown: string[] = [];
      const gone = new Set<string>();
      for (const topic of new Set(topics)) {
        if (!isInbox(topic) || present.has(topic)) continue;
        if ((absentUntil.get(topic) ?? 0) > t) gone.add(topic);
        else unknown.push(topic);
      }
      if (unknown.length === 0) return gone;
      const existing = await list();
      if (existing === undefined) return gone; // cannot tell: produce, as before
      present = new Set([...present, ...existing]);
      for (const topic of unknown) {
        if (existing.has(topic)) absentUntil.delete(topic);
        else {
          absentUntil.set(topic, now() + absentForMs);
          gone.add(topic);
        }
      }
      return gone;
    },
    invalidate() {
      present = new Set();
    },
  };
}
