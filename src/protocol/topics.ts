/**
 * The Kafka names the product uses: one shape, read from the environment by the config
 * module, taken by both buses, the scripts and the tests. Inbox topic and group names are
 * derived here only, so no two places can spell them differently.
 */
export interface TopicsConfig {
  /** Login requests, keyed by userId. */
  readonly login: string;
  /** Chat requests (sends, sessions, typing), keyed by userId; co-partitioned with login. */
  readonly chat: string;
  /** `<inboxPrefix>.<instanceId>` is an instance's inbox topic; `<inboxPrefix>-<instanceId>` its group. */
  readonly inboxPrefix: string;
  /** The consumer group of the owners over the request topics. */
  readonly ownerGroup: string;
  /** Read by every instance: announcements and other cluster-wide frames. */
  readonly broadcast: string;
  /** Partitions of each request topic. */
  readonly partitions: number;
}

/** The inbox topic of an instance: replies and deliveries for it go there, and only it reads them. */
export const inboxTopicOf = (topics: Pick<TopicsConfig, 'inboxPrefix'>, instanceId: string): string =>
  `${topics.inboxPrefix}.${instanceId}`;

/** The consumer group of an instance's inbox (one member: the instance). */
export const inboxGroupOf = (topics: Pick<TopicsConfig, 'inboxPrefix'>, instanceId: string): string =>
  `${topics.inboxPrefix}-${instanceId}`;
