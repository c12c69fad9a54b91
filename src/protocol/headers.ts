/**
 * Kafka header names. Request-reply uses Spring Kafka's ReplyingKafkaTemplate names, so
 * a Java service can take part in the same request-reply exchange unchanged.
 */
export const Headers = {
  correlationId: 'kafka_correlationId',
  replyTopic: 'kafka_replyTopic',
  dltOriginalTopic: 'dlt-original-topic',
  dltOriginalPartition: 'dlt-original-partition',
  dltOriginalOffset: 'dlt-original-offset',
  dltErrorCode: 'dlt-error-code',
  dltErrorMessage: 'dlt-error-message',
  dltAttempts: 'dlt-attempts',
  dltFailedAt: 'dlt-failed-at',
  /** Set by `npm run dlt -- replay` on a record it puts back: where in the DLT it came from. */
  dltReplayedFrom: 'dlt-replayed-from',
} as const;

/** Every dead-letter header starts with this; a replay strips them before adding its own. */
export const DLT_HEADER_PREFIX = 'dlt-';

export type HeaderName = (typeof Headers)[keyof typeof Headers];
export type RecordHeaders = Readonly<Partial<Record<HeaderName, string>>>;

/** The dead-letter topic of a topic. */
export const dltTopicOf = (topic: string): string => `${topic}.dlt`;
