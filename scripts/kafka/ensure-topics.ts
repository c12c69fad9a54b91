/**
 * `npx tsx scripts/kafka/ensure-topics.ts`: creates the request topics if they are missing,
 * through the same code the app runs at start (src/adapters/kafka/topic-admin.ts), from
 * the same variables (KAFKA_BROKERS, KAFKA_TOPIC_LOGIN, KAFKA_TOPIC_CHAT, KAFKA_PARTITIONS,
 * KAFKA_REPLICATION_FACTOR, and the KAFKA_SSL / KAFKA_SASL settings; read and validated by
 * src/config/config.ts). infra.sh and
 * docker-compose provision with it, so there is one way topics come to exist: the same
 * partition count for both (co-partitioning), replication factor and min.insync.replicas.
 * kafkajs's own log is off: its metadata retries while a new topic gets leaders are
 * expected, and a real failure ends the command with its message.
 */
import { Kafka, logLevel } from 'kafkajs';
import { ConfigError, loadConfig } from '../../src/config/config';
import { createTopicAdmin } from '../../src/adapters/kafka/topic-admin';
import { kafkaSecurity } from '../../src/adapters/kafka/kafka-security';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.kafka === undefined) throw new ConfigError(['KAFKA_BROKERS: required to provision topics']);
  const { topics } = config;
  const admin = new Kafka({
    clientId: 'ensure-topics',
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
    ...kafkaSecurity(config.kafka),
  }).admin();
  await admin.connect();
  try {
    const requestTopics = [topics.login, topics.chat];
    const topicAdmin = createTopicAdmin({
      admin,
      replicationFactor: config.kafka.replicationFactor,
      requestTopics,
      requestPartitions: topics.partitions,
    });
    for (const topic of requestTopics) await topicAdmin.ensureTopic(topic, topics.partitions);
    process.stdout.write(
      `topics ${requestTopics.join(', ')}: ${topics.partitions} partitions, RF ${config.kafka.replicationFactor}, min.insync.replicas ${Math.min(2, config.kafka.replicationFactor)}\n`,
    );
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`ensure-topics: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
