import { forgetTargetTopics, withDeletedTopicRecovery } from '../../src/adapters/kafka/kafkajs-deleted-topic-fix';

/**
 * A fake cluster with kafkajs's shape: a refresh that fails with UNKNOWN_TOPIC_OR_PARTITION
 * while any target topic is missing from the brokers (what kafkajs's metadata decoder does),
 * and a broker whose metadata([]) lists what exists. The real-Kafka test is
 * test/integration/deleted-topic-producer.test.ts.
 */
function fakeCluster(existing: Set<string>, targets: string[], { lagging = new Set<string>() }: { lagging?: Set<string> } = {}) {
  const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  let refreshes = 0;
  let listings = 0;
  const broker = (misses: Set<string>) => ({
    connect: () => Promise.resolve(),
    metadata: (topics: string[]) => {
      expect(topics).toEqual([]); // all topics
      listings++;
      return Promise.resolve({ topicMetadata: [...existing].filter((t) => !misses.has(t)).map((topic) => ({ topic })) });
    },
  });
  const cluster = {
    targetTopics: new Set(targets),
    brokerPool: {
      // What kafkajs had loaded before: every target but a topic asked for the first time ('new').
      metadata: { topicMetadata: targets.filter((t) => t !== 'new').map((topic) => ({ topic })) },
      // Broker 2 may lag: it does not list the topics in `lagging` yet.
      brokers: { '1': broker(new Set()), '2': broker(lagging) } as Record<
        string,
        { connect(): Promise<void>; metadata(topics: string[]): Promise<{ topicMetadata: { topic: string }[] }> }
      >,
    },
  };
  const refresh = async function (this: { targetTopics: Set<string> }): Promise<void> {
    refreshes++;
    if ([...this.targetTopics].some((t) => !existing.has(t))) throw unknownTopic;
  };
  return { cluster, refresh, unknownTopic, counts: () => ({ refreshes, listings }) };
}

describe('kafkajs deleted-topic fix', () => {
  it('drops a deleted target topic and refreshes again, so the other topics keep working', async () => {
    const { cluster, refresh, counts } = fakeCluster(new Set(['a', 'c']), ['a', 'gone', 'c']);
    await withDeletedTopicRecovery(refresh).call(cluster);
    expect([...cluster.targetTopics]).toEqual(['a', 'c']);
    expect(counts()).toEqual({ refreshes: 2, listings: 2 });
  });

  it('rethrows when every target topic exists (the error is not about a deleted topic)', async () => {
    const { cluster, unknownTopic, counts } = fakeCluster(new Set(['a']), ['a']);
    const failing = async (): Promise<void> => Promise.reject(unknownTopic);
    await expect(withDeletedTopicRecovery(failing).call(cluster)).rejects.toBe(unknownTopic);
    expect(counts().listings).toBe(2);
    expect([...cluster.targetTopics]).toEqual(['a']);
  });

  it('leaves other errors alone, without listing topics', async () => {
    const { cluster, counts } = fakeCluster(new Set(['a']), ['a']);
    const other = Object.assign(new Error('connection closed'), { type: 'KAFKAJS_CONNECTION_CLOSED' });
    await expect(withDeletedTopicRecovery(() => Promise.reject(other)).call(cluster)).rejects.toBe(other);
    expect(counts().listings).toBe(0);
  });

  it('refreshes once more at most (a topic deleted again in between fails the call)', async () => {
    const existing = new Set(['a', 'b']);
    const { cluster, refresh, unknownTopic } = fakeCluster(existing, ['a', 'b', 'gone']);
    let calls = 0;
    const racing = async function (this: { targetTopics: Set<string> }): Promise<void> {
      calls++;
      if (calls === 2) existing.delete('b');
      await refresh.call(this);
    };
    await expect(withDeletedTopicRecovery(racing).call(cluster)).rejects.toBe(unknownTopic);
    expect(calls).toBe(2);
  });

  it('leaves a topic that never existed alone: asking for it fails as before', async () => {
    const { cluster, refresh, unknownTopic } = fakeCluster(new Set(['a']), ['a', 'new']);
    await expect(withDeletedTopicRecovery(refresh).call(cluster)).rejects.toBe(unknownTopic);
    expect([...cluster.targetTopics]).toEqual(['a', 'new']);
  });

  it('keeps the original error when the topics cannot be listed', async () => {
    const { cluster, refresh, unknownTopic } = fakeCluster(new Set(['a']), ['a', 'gone']);
    cluster.brokerPool.brokers['2'] = {
      connect: () => Promise.reject(new Error('connection refused')),
      metadata: () => Promise.resolve({ topicMetadata: [] }),
    };
    await expect(withDeletedTopicRecovery(refresh).call(cluster)).rejects.toBe(unknownTopic);
  });

  it('keeps a topic one lagging broker does not list yet (created a moment ago)', async () => {
    // 'fresh' exists (broker 1 lists it), broker 2 has not heard of it; 'gone' is deleted.
    const { cluster, refresh } = fakeCluster(new Set(['a', 'fresh']), ['a', 'fresh', 'gone'], { lagging: new Set(['fresh']) });
    await withDeletedTopicRecovery(refresh).call(cluster);
    expect([...cluster.targetTopics]).toEqual(['a', 'fresh']);
  });

  it('forgets announced topics in every cluster that refreshed through the fix, before they are deleted', async () => {
    const one = fakeCluster(new Set(['a', 'inbox.x']), ['a', 'inbox.x']);
    const two = fakeCluster(new Set(['a', 'inbox.x']), ['a']);
    await withDeletedTopicRecovery(one.refresh).call(one.cluster);
    await withDeletedTopicRecovery(two.refresh).call(two.cluster);
    expect(forgetTargetTopics(['inbox.x'])).toBe(1);
    expect([...one.cluster.targetTopics]).toEqual(['a']);
    expect([...two.cluster.targetTopics]).toEqual(['a']);
    // Deleted now: the next refresh asks for nothing missing, so it neither fails nor lists.
    const before = one.counts().listings;
    await withDeletedTopicRecovery(one.refresh).call(one.cluster);
    expect(one.counts().listings).toBe(before);
    expect(forgetTargetTopics(['inbox.x'])).toBe(0);
  });
});
