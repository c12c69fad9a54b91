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
 * UNKNOWN_TOPIC_OR_PARTITION, it lists the topics that exist (one metadata request for all
 * topics, as admin.listTopics does), drops the target topics that no longer exist, and
 * refreshes again, once. A refresh that fails for another reason, or whose target topics all
 * exist, fails as before. The set is pruned in place and without kafkajs's
 * `mutatingTargetTopics` lock: addMultipleTargetTopics holds that lock while it refreshes,
 * so taking it here would deadlock; kafkajs itself replaces the set under the same
 * conditions.
 *
 * Applied once, to exactly the version it was read against, like kafkajs-idle-fix.ts.
 */
export const KAFKAJS_DELETED_TOPIC_FIX_VERSION = '2.2.4';

interface ClusterState {
  targetTopics: Set<string>;
  readonly brokerPool: {
    withBroker<T>(
      callback: (args: { broker: { metadata(topics: string[]): Promise<{ topicMetadata: { topic: string }[] }> } }) => Promise<T>,
    ): Promise<T>;
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

/** Removes the target topics that no longer exist; returns those removed. Exported for the unit test. */
export async function pruneDeletedTargetTopics(cluster: ClusterState): Promise<string[]> {
  if (cluster.targetTopics.size === 0) return [];
  const { topicMetadata } = await cluster.brokerPool.withBroker(({ broker }) => broker.metadata([]));
  const existing = new Set(topicMetadata.map((t) => t.topic));
  const gone = [...cluster.targetTopics].filter((t) => !existing.has(t));
  for (const topic of gone) cluster.targetTopics.delete(topic);
  return gone;
}

/** Wraps one refresh method of a Cluster prototype (or a fake's, in the unit test). */
export function withDeletedTopicRecovery(refresh: Refresh): Refresh {
  return async function (this: ClusterState): Promise<void> {
    try {
      await refresh.call(this);
    } catch (error) {
      if (!isUnknownTopic(error)) throw error;
      const gone = await pruneDeletedTargetTopics(this);
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
