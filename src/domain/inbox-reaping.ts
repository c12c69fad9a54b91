/**
 * Which inbox topics the janitor deletes (pure; gateway/inbox-janitor.ts does the I/O).
 *
 * An inbox is reaped when its instance is not live (no view in the instance directory),
 * is not this instance, and was last seen at least `retentionMs` ago — in two passes in a
 * row. The second pass is what keeps a restarting instance's inbox: it creates (or reuses)
 * its inbox topic a few seconds before its first announcement, so an instance coming back
 * under an old id may look gone to one pass, never to two a janitor interval apart.
 *
 * An inbox with no sighting on record (made before sightings were kept, or Redis lost
 * them) gets one at the time it is found, so it is reaped a retention later, never at once.
 * Sightings of instances with no inbox left are forgotten once past the retention, so the
 * record stays as small as the set of recent instances.
 */
export interface InboxReapInput {
  /** Instance ids that have an inbox topic. */
  readonly inboxes: readonly string[];
  /** Instance ids with a live view in the directory. */
  readonly live: ReadonlySet<string>;
  /** Last sighting per instance id (ms). */
  readonly lastSeen: ReadonlyMap<string, number>;
  readonly self: string;
  readonly now: number;
}

export interface InboxReapPlan {
  /** Delete these instances' inboxes (then forget them). */
  readonly reap: readonly string[];
  /** Inboxes with no sighting on record: note one at `now`. */
  readonly note: readonly string[];
  /** Sightings with no inbox, older than the retention: forget them. */
  readonly forget: readonly string[];
}

export interface InboxReaper {
  plan(input: InboxReapInput): InboxReapPlan;
}

export function createInboxReaper({ retentionMs }: { readonly retentionMs: number }): InboxReaper {
  // Eligible in the previous pass.
  let suspects = new Set<string>();
  return {
    plan({ inboxes, live, lastSeen, self, now }) {
      const eligible = new Set<string>();
      const note: string[] = [];
      for (const id of inboxes) {
        if (id === self || live.has(id)) continue;
        const seen = lastSeen.get(id);
        if (seen === undefined) note.push(id);
        else if (now - seen >= retentionMs) eligible.add(id);
      }
      const reap = [...eligible].filter((id) => suspects.has(id));
      suspects = eligible;
      const withInbox = new Set(inboxes);
      const forget = [...lastSeen]
        .filter(([id, seen]) => !withInbox.has(id) && !live.has(id) && now - seen >= retentionMs)
        .map(([id]) => id);
      return { reap, note, forget };
    },
  };
}
