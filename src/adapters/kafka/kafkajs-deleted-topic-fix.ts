/**
 * kafkajs 2.2.4 forgets nothing: every topic a client has produced to (or asked about)
 * stays in its cluster's `targetTopics`, and every metadata refresh asks for all of them.
 * Once one of those topics is deleted, the broker answers UNKNOWN_TOPIC_OR_PARTITION for
 * it, kafkajs's metadata decoder throws on that topic error, and the refresh fails: from
 * then on the producer cannot write to ANY topic until the process restarts
 * (tulios/kafkajs#1622, #1146, #1759; open).
 *
 * Inbox topics are deleted on purpose (an instance's own after a graceful drain, and the
 * janitor's for instances long gone: gateway/inbox-janitor.ts), and every other instance's
 * producer has written relays to them. So without this fix, one instance leaving would
 * wedge the producers of all the others.
 *
 * The fix wraps the cluster's two refresh methods: when a refresh fails with
 * UNKNOWN_TOPIC_OR_PARTITION, it lists the topics that exist on every broker (a metadata
 * request for all topics, as admin.listTopics does), drops the target topics that existed
 * before (kafkajs had their metadata) and no broker lists any more, and refreshes again,
 * once. A topic that never
 * existed is not dropped: asking for one fails as before. A refresh that fails for another reason, or whose target topics all
 * exist, fails as before. The set is pruned in place and without kafkajs's
 * `mutatingTargetTopics` lock: addMultipleTargetTopics holds that lock while it refreshes,
 * so taking it here would deadlock; kafkajs itself replaces the set under the same
 * conditions.
 *
 * Applied once, to exactly the version it was read against, like kafkajs-idle-fix.ts.
 */
export const KAFKAJS_DELETED_TOPIC_FIX_VERSION = '2.2.4';

interface ListingBroker {
  /** kafkajs's Broker.connect: returns at once when connected (kafkajs connects brokers lazily). */
  connect(): Promise<void>;
  metadata(topics: string[]): Promise<{ topicMetadata: { topic: string }[] }>;
}
interface ClusterState {
  targetTopics: Set<string>;
  readonly brokerPool: {
    /** The last metadata kafkajs loaded (undefined before the first). */
    readonly metadata?: { readonly topicMetadata?: readonly { readonly topic: string }[] } | undefined;
    /** The brokers the pool knows, by node id. */
    readonly brokers?: Readonly<Record<string, ListingBroker>>;
  };
}
type Refresh = (this: ClusterState) => Promise<void>;
interface ClusterMethods {
  refreshMetadata: Refresh;
  refreshMetadataIfNecessary: Refresh;
  deletedTopicFixApplied?: boolean;
}

const isUnknownTopic = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION';

/**
 * Removes the target topics that were there (kafkajs had loaded their metadata) and no
 * longer exist; returns those removed. A topic that never existed is left alone, so asking
 * for one (a send or a subscribe to a missing topic) fails as it always did. Exported for
 * the unit test.
 */
export async function pruneDeletedTargetTopics(cluster: ClusterState): Promise<string[]> {
  const known = new Set((cluster.brokerPool.metadata?.topicMetadata ?? []).map((t) => t.topic));
  const candidates = [...cluster.targetTopics].filter((t) => known.has(t));
  if (candidates.length === 0) return [];
  // Every broker is asked, and a topic any of them lists is kept: brokers learn of a new
  // topic one after another (KRaft metadata propagation), so one lagging broker's listing
  // would take a topic just created for deleted. A deleted topic is listed by none.
  const listings = await Promise.allSettled(
    Object.values(cluster.brokerPool.brokers ?? {}).map(async (broker) => {
      await broker.connect();
      return broker.metadata([]);
    }),
  );
  const answered = listings.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []));
  if (answered.length === 0 || answered.length < listings.length) return []; // cannot tell: change nothing
  const existing = new Set(answered.flatMap((l) => l.topicMetadata.map((t) => t.topic)));
  const gone = candidates.filter((t) => !existing.has(t));
  for (const topic of gone) cluster.targetTopics.delete(topic);
  return gone;
}

/**
 * Every kafkajs cluster (one per producer, consumer and admin) that refreshed metadata in
 * this process, held weakly: `forgetTargetTopics` reaches them without kafkajs exposing
 * them.
 */
const clusters = new Set<WeakRef<ClusterState>>();
const registered = new WeakSet<ClusterState>();
const register = (cluster: ClusterState): void => {
  if (registered.has(cluster)) return;
  registered.add(cluster);
  clusters.add(new WeakRef(cluster));
};

/**
 * Removes topics about to be deleted from every cluster's target topics, before they are
 * deleted: then no later refresh asks for them at all. The recovery below is for a topic
 * deleted without notice; it has to ask every broker, and right after a deletion some
 * broker may still list the topic (KRaft metadata reaches brokers one by one), so the
 * recovery can fail for seconds, and with it every send of that producer. A cluster that
 * sends to a forgotten topic again adds it back (kafkajs's addMultipleTargetTopics).
 * Returns how many clusters held one of them.
 */
export function forgetTargetTopics(topics: readonly string[]): number {
  let held = 0;
  for (const ref of clusters) {
    const cluster = ref.deref();
    if (cluster === undefined) {
      clusters.delete(ref);
      continue;
    }
    let had = false;
    for (const topic of topics) had = cluster.targetTopics.delete(topic) || had;
    if (had) held++;
  }
  return held;
}

/** Wraps one refresh method of a Cluster prototype (or a fake's, in the unit test). */
export function withDeletedTopicRecovery(refresh: Refresh): Refresh {
  return async function (this: ClusterState): Promise<void> {
    register(this);
    try {
      await refresh.call(this);
    } catch (error) {
      if (!isUnknownTopic(error)) throw error;
      // A failure to list (no broker connected yet) leaves the original error to tell.
      const gone = await pruneDeletedTargetTopics(this).catch(() => []);
      if (gone.length === 0) throw error;
      await refresh.call(this);
    }
  };
}

/** Returns whether the fix is in place (false: another kafkajs version, left as it is). */
export function applyKafkajsDeletedTopicFix(): boolean {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_DELETED_TOPIC_FIX_VERSION) return false;
  const Cluster: unknown = require('kafkajs/src/cluster');
  if (typeof Cluster !== 'function') return false;
  const proto = (Cluster as { prototype: Partial<ClusterMethods> }).prototype;
  if (proto.deletedTopicFixApplied === true) return true;
  const { refreshMetadata, refreshMetadataIfNecessary } = proto;
  if (typeof refreshMetadata !== 'function' || typeof refreshMetadataIfNecessary !== 'function') return false;
  proto.refreshMetadata = withDeletedTopicRecovery(refreshMetadata);
  proto.refreshMetadataIfNecessary = withDeletedTopicRecovery(refreshMetadataIfNecessary);
  proto.deletedTopicFixApplied = true;
  return true;
}
