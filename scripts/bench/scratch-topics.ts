/**
 * Fresh topics for one floor measurement, set up as the product's are (replication factor
 * 3, min.insync.replicas 2), and deleted afterwards: a benchmark leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

/** The bootstrap servers of the local cluster scripts/infra/infra.sh starts. */
export const LOCAL_BROKERS: readonly string[] = ['127.0.0.1:19092', '127.0.0.1:19093', '127.0.0.1:19094'];

export interface ScratchTopics {
  /** Creates a topic named `<prefix>-<label>` and waits for its leaders. */
  create(label: string, partitions: number): Promise<string>;
  /**
   * The topics of a kafkajs hop (kafkajs-hop.ts): `<prefix>-<label>`, and with `fanOut` > 0 the
   * path's second topic `<prefix>-<label>-out` too. Resolves to the first one's name.
   */
  createHop(label: string, fanOut: number): Promise<string>;
  /** Deletes every topic this made. */
  dispose(): Promise<void>;
}

export function createScratchTopics({
  brokers,
  prefix = `bench-floor-${randomBytes(3).toString('hex')}`,
}: {
  brokers: readonly string[];
  prefix?: string;
}): ScratchTopics {
  const admin = new Kafka({ clientId: 'bench-floor-admin', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  let connected: Promise<void> | undefined;
  const made: string[] = [];
  const topics: ScratchTopics = {
    async create(label, partitions) {
      connected ??= admin.connect();
      await connected;
      const topic = `${prefix}-${label}`;
      await admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic, numPartitions: partitions, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      });
      made.push(topic);
      // Every partition led and fully replicated before a measurement starts (kafkajs's own
      // waitForLeaders can throw while the brokers still learn of the topic).
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await admin
          .fetchTopicMetadata({ topics: [topic] })
          .then(
            ({ topics: [t] }) =>
              t !== undefined && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3),
          )
          .catch(() => false);
        if (ready) return topic;
        if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions not led and in sync within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async createHop(label, fanOut) {
      const topic = await topics.create(label, 12);
      if (fanOut > 0) await topics.create(`${label}-out`, 12);
      return topic;
    },
    async dispose() {
      if (connected === undefined) return;
      // Deleting right after use can meet a broker still learning of a topic; retried, and a
      // topic that stays is reported, never a failed measurement (its numbers are taken).
      const topics = made.splice(0);
      try {
        for (let attempt = 1; topics.length > 0; attempt++) {
          try {
            await admin.deleteTopics({ topics });
            break;
          } catch (error) {
            if (attempt >= 10) {
              process.stderr.write(
                `bench: could not delete ${topics.join(', ')}: ${error instanceof Error ? error.message : String(error)}\n`,
              );
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      } finally {
        await admin.disconnect();
      }
    },
  };
  return topics;
}

/** Records written so far to the topics whose names start with `prefix` (sum of high watermarks: compare two readings). */
export async function recordsWritten({ brokers, prefix }: { brokers: readonly string[]; prefix: string }): Promise<number> {
  const admin = new Kafka({ clientId: 'bench-record-count', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    let total = 0;
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) total += Number(p.high);
    return total;
  } finally {
    await admin.disconnect();
  }
}
