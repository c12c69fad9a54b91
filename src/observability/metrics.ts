import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one instance. Each app gets its own registry, so several
 * instances in one test process do not mix their counts.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly recordsProduced: Counter<'type'>;
  /**
   * Records a publish could not write, by error code (UNAVAILABLE, TIMEOUT, INTERNAL,
   * VALIDATION): with recordsProduced, the produce error ratio the alerts watch.
   */
  readonly produceFailures: Counter<'code'>;
  /** source: owner (request topics) or inbox (this instance's replies and deliveries). */
  readonly recordsConsumed: Counter<'source' | 'type' | 'outcome'>;
  readonly repliesUnmatched: Counter<'type'>;
  readonly loginsHandled: Counter<'result'>;
  readonly ownedPartitions: Gauge;
  /**
   * Partitions of each request topic (KAFKA_PARTITIONS), set by owners: the owner group
   * must own all of them between its members, so fewer owned in total means a partition
   * nobody handles (its users' logins and sends wait).
   */
  readonly requestPartitions: Gauge;
  /** 1 when a /readyz check passes, 0 when it fails (by check: kafka, postgres, redis, ownerGroup, …); evaluated when scraped. */
  readonly readyChecks: Gauge<'check'>;
  readonly requestReplyLatency: Histogram<'type' | 'outcome'>;
  readonly messagesStored: Counter<'outcome'>;
  readonly sendsRefused: Counter<'code'>;
  /** Read-cursor requests at the reader's owner: moved, unchanged (at or below the cursor), or refused with a code. */
  readonly readsHandled: Counter<'outcome'>;
  /** Deliver records handled at a recipient's owner: relayed to instances, or recipient offline. */
  readonly deliveries: Counter<'frame' | 'outcome'>;
  /**
   * Frames fanned out to other users by an owner, by path: direct (to the instances the
   * session directory names) or via-owner (the directory was unavailable: a deliver record
   * per recipient, through the recipient's owner).
   */
  readonly fanOuts: Counter<'path'>;
  /**
   * presence.snapshot frames an owner answered a new socket with (sent), or left out
   * because the session directory or the store could not answer (docs/architecture.md).
   */
  readonly presenceSnapshots: Counter<'outcome'>;
  /** Users an owner announced offline because their last session was not re-announced within SESSION_TTL_MS. */
  readonly sessionsExpired: Counter;
  /**
   * Fetch requests answered, per consumer (owner group, inbox): on this machine the brokers
   * spend their CPU per fetch answer, so fetches per message is the budget to watch.
   */
  readonly kafkaFetches: Counter<'source'>;
  /** Records this instance addressed to its own inbox and handed over in-process (no Kafka round trip). */
  readonly inboxLocal: Counter<'type'>;
  /** Records for the inbox of an instance whose inbox topic no longer exists, dropped (adapters/kafka/inbox-presence.ts). */
  readonly inboxGone: Counter<'type'>;
  /** Inbox topics of instances gone for longer than INBOX_RETENTION_MS, deleted by this instance's janitor. */
  readonly inboxesReaped: Counter;
  /** Frames written to this instance's sockets, by frame type. */
  readonly framesSent: Counter<'type'>;
  readonly connections: Gauge<'kind'>;
  /** Relayed frames for a connection this instance does not hold (closed meanwhile, or misrouted). */
  readonly relayMisses: Counter;
  /**
   * Send→deliver latency: from a message's store time (its `ts`) to its `message` frame
   * going out on one of this instance's connections. Live deliveries only: history sent
   * for a resume is old by design and would drown the signal.
   */
  readonly deliveryLatency: Histogram;
  /** Records not yet handled, per consumed partition this instance reads: high watermark − next offset. */
  readonly consumerLag: Gauge<'source' | 'topic' | 'partition'>;
  /**
   * Times this instance (re)joined the owner group: each is one rebalance it took part in.
   * A steady count while a dependency is slow says heartbeats went on and nobody was evicted.
   */
  readonly ownerGroupJoins: Counter;
  /** Inputs refused by an abuse guard: ws_origin, ws_handshake_rate, ws_message_rate, login_throttled. */
  readonly securityRefusals: Counter<'reason'>;
  /** Outbox rows relayed: published (Kafka acknowledged), or invalid (cannot ever be produced; deleted and logged). */
  readonly outboxRelayed: Counter<'outcome'>;
  /** Outbox relay passes that failed (database or Kafka unavailable); retried with backoff. */
  readonly outboxRelayFailures: Counter;
  /** From a row's commit (created_at) to Kafka acknowledging its record. */
  readonly outboxRelayLag: Histogram;
  /** Age of the oldest pending outbox row (0 when none): grows while the relay cannot publish. */
  readonly outboxOldestPending: Gauge;
  /** Eager state loads on partition assignment, by outcome (loaded, timeout, failed), with their duration. */
  readonly eagerLoadSeconds: Histogram<'outcome'>;
  /** Users loaded eagerly on partition assignment. */
  readonly eagerLoadUsers: Counter;
  /** Messages per appendMessages statement the owner's append batcher sent (owner/append-batcher.ts). */
  readonly appendBatchSize: Histogram;
}

export function createMetrics({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // prom-client samples the event loop delay with a 10 ms timer by default: 100 wake-ups a
  // second, 0.01 cores on this machine measured alone — an idle instance's whole budget.
  // Every 100 ms still shows a stalled loop (the p99 and max gauges), for 0.002 cores.
  if (defaultMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'chat_http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    recordsProduced: new Counter({
      name: 'chat_records_produced_total',
      help: 'Records this instance produced, by record type',
      labelNames: ['type'],
      registers,
    }),
    recordsConsumed: new Counter({
      name: 'chat_records_consumed_total',
      help: 'Records this instance consumed, by source (owner|inbox), type and outcome',
      labelNames: ['source', 'type', 'outcome'],
      registers,
    }),
    repliesUnmatched: new Counter({
      name: 'chat_replies_unmatched_total',
      help: 'Inbox replies with no waiting request (late, after a timeout, or misrouted)',
      labelNames: ['type'],
      registers,
    }),
    produceFailures: new Counter({
      name: 'chat_produce_failures_total',
      help: 'Records this instance failed to produce, by error code (UNAVAILABLE, TIMEOUT, INTERNAL, VALIDATION)',
      labelNames: ['code'],
      registers,
    }),
    loginsHandled: new Counter({
      name: 'chat_owner_logins_total',
      help: 'Login requests this instance handled as the owner, by result',
      labelNames: ['result'],
      registers,
    }),
    ownedPartitions: new Gauge({
      name: 'chat_owned_partitions',
      help: 'Request-topic partitions this instance owns',
      registers,
    }),
    requestPartitions: new Gauge({
      name: 'chat_request_partitions',
      help: 'Partitions of each request topic, which the owner group must own between its members (set by owners)',
      registers,
    }),
    readyChecks: new Gauge({
      name: 'chat_ready_check',
      help: 'Readiness checks of /readyz, 1 passing and 0 failing, evaluated at each scrape',
      labelNames: ['check'],
      registers,
    }),
    requestReplyLatency: new Histogram({
      name: 'chat_request_reply_seconds',
      help: 'Time from producing a request to receiving its reply',
      labelNames: ['type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    messagesStored: new Counter({
      name: 'chat_messages_stored_total',
      help: 'Send, edit and delete requests by outcome: stored, client-retry (clientMsgId already stored), redelivered (the same record handled again)',
      labelNames: ['outcome'],
      registers,
    }),
    sendsRefused: new Counter({
      name: 'chat_sends_refused_total',
      help: 'Send, edit and delete requests refused, by error code',
      labelNames: ['code'],
      registers,
    }),
    readsHandled: new Counter({
      name: 'chat_reads_total',
      help: 'Read-cursor requests handled by the reader owner, by outcome: moved, unchanged, or the refusal code',
      labelNames: ['outcome'],
      registers,
    }),
    deliveries: new Counter({
      name: 'chat_deliveries_total',
      help: 'Deliver records handled by the recipient owner',
      labelNames: ['frame', 'outcome'],
      registers,
    }),
    fanOuts: new Counter({
      name: 'chat_fanouts_total',
      help: 'Frames an owner fanned out to other users, by path (direct: to the instances holding their sockets; via-owner: through each recipient owner)',
      labelNames: ['path'],
      registers,
    }),
    presenceSnapshots: new Counter({
      name: 'chat_presence_snapshots_total',
      help: 'presence.snapshot frames answered after ready, by outcome (sent; directory_unavailable or store_failed: left out)',
      labelNames: ['outcome'],
      registers,
    }),
    sessionsExpired: new Counter({
      name: 'chat_presence_expired_total',
      help: 'Users announced offline by their owner because their last session expired (not re-announced within SESSION_TTL_MS)',
      registers,
    }),
    kafkaFetches: new Counter({
      name: 'chat_kafka_fetches_total',
      help: 'Kafka fetch requests answered, per consumer (source owner|inbox)',
      labelNames: ['source'],
      registers,
    }),
    inboxLocal: new Counter({
      name: 'chat_inbox_local_total',
      help: "Records addressed to this instance's own inbox, handed to its inbox listener in-process instead of through Kafka",
      labelNames: ['type'],
      registers,
    }),
    inboxGone: new Counter({
      name: 'chat_inbox_gone_total',
      help: 'Records for the inbox of an instance whose inbox topic no longer exists (it left), dropped instead of produced',
      labelNames: ['type'],
      registers,
    }),
    inboxesReaped: new Counter({
      name: 'chat_inboxes_reaped_total',
      help: 'Inbox topics of instances gone for longer than INBOX_RETENTION_MS, deleted by the inbox janitor',
      registers,
    }),
    framesSent: new Counter({
      name: 'chat_frames_sent_total',
      help: 'Frames written to client connections',
      labelNames: ['type'],
      registers,
    }),
    connections: new Gauge({ name: 'chat_connections', help: 'Open client connections', labelNames: ['kind'], registers }),
    relayMisses: new Counter({
      name: 'chat_relay_misses_total',
      help: 'Relayed frames whose connection is not on this instance',
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'chat_send_deliver_seconds',
      help: 'From a message being stored (its ts) to its message frame going out to a client connection (live deliveries)',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'chat_consumer_lag',
      help: 'Records not yet handled per partition this instance consumes (source owner|inbox)',
      labelNames: ['source', 'topic', 'partition'],
      registers,
    }),
    ownerGroupJoins: new Counter({
      name: 'chat_owner_group_joins_total',
      help: 'Owner group joins of this instance (one per rebalance it took part in; Kafka bus)',
      registers,
    }),
    securityRefusals: new Counter({
      name: 'chat_security_refusals_total',
      help: 'Inputs refused by an abuse guard (origin, rate limits, login throttle)',
      labelNames: ['reason'],
      registers,
    }),
    outboxRelayed: new Counter({
      name: 'chat_outbox_relayed_total',
      help: 'Outbox rows relayed, by outcome (published, invalid)',
      labelNames: ['outcome'],
      registers,
    }),
    outboxRelayFailures: new Counter({
      name: 'chat_outbox_relay_failures_total',
      help: 'Outbox relay passes that failed and will be retried',
      registers,
    }),
    outboxRelayLag: new Histogram({
      name: 'chat_outbox_relay_lag_seconds',
      help: 'From an outbox row being committed to its record being acknowledged by the bus',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    outboxOldestPending: new Gauge({
      name: 'chat_outbox_oldest_pending_seconds',
      help: 'Age of the oldest pending outbox row, 0 when none',
      registers,
    }),
    eagerLoadSeconds: new Histogram({
      name: 'chat_owner_eager_load_seconds',
      help: 'Loading the state of newly assigned partitions before handling their records, by outcome (loaded, timeout, failed)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eagerLoadUsers: new Counter({
      name: 'chat_owner_eager_load_users_total',
      help: 'Users whose state was loaded eagerly on partition assignment',
      registers,
    }),
    appendBatchSize: new Histogram({
      name: 'chat_owner_append_batch_size',
      help: 'Messages written per database statement by the owner (sends of all owned partitions batched together)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
  };
}
