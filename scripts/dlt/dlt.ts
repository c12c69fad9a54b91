/**
 * `npm run dlt -- list --topic chat-request.dlt [--limit 20]`
 * `npm run dlt -- replay --topic chat-request.dlt [--limit N] [--dry-run]`
 *
 * Operators' tool for dead-letter topics. `list` prints what is there (origin, error,
 * attempts) without moving anything. `replay` produces each dead-lettered record back to
 * its original topic (header `dlt-original-topic`) with its original key, value and
 * headers (the `dlt-*` ones dropped, a `dlt-replayed-from` one added), then commits its
 * progress in the consumer group `<topic>.replayer`, so running it again replays only
 * what arrived since. Fix the cause first: a record that fails the same way lands in the
 * DLT again.
 */
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { DLT_HEADER_PREFIX, Headers } from '../../src/protocol/headers';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    topic: { type: 'string' },
    limit: { type: 'string', default: '1000' },
    brokers: { type: 'string', default: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094' },
    'dry-run': { type: 'boolean', default: false },
    'idle-ms': { type: 'string', default: '3000' },
  },
});
const command = positionals[0];
const topic = values.topic;
const limit = Number(values.limit);
const idleMs = Number(values['idle-ms']);
if ((command !== 'list' && command !== 'replay') || topic === undefined || !topic.endsWith('.dlt') || !(limit > 0)) {
  process.stderr.write('usage: npm run dlt -- list|replay --topic <name>.dlt [--limit N] [--dry-run] [--brokers host:port,...]\n');
  process.exit(2);
}

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
};

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'dlt-tool', brokers: values.brokers.split(','), logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(topic!)) {
    process.stdout.write(`${topic} does not exist: nothing was ever dead-lettered there\n`);
    await admin.disconnect();
    return;
  }
  await admin.disconnect();

  const replaying = command === 'replay' && !values['dry-run'];
  // `list` reads from the start with a throwaway group; `replay` keeps its place.
  const groupId = replaying ? `${topic}.replayer` : `${topic}.lister-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), replaying ? producer.connect() : Promise.resolve()]);
  // Metadata of a young topic may lag on some brokers: retry the subscription briefly.
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topics: [topic!], fromBeginning: true });
      break;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  let seen = 0;
  let last = Date.now();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (seen >= limit) return done();
      last = Date.now();
      seen++;
      const origin = header(message.headers, Headers.dltOriginalTopic);
      const line = {
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        origin: `${origin}/${header(message.headers, Headers.dltOriginalPartition)}@${header(message.headers, Headers.dltOriginalOffset)}`,
        error: `${header(message.headers, Headers.dltErrorCode)}: ${header(message.headers, Headers.dltErrorMessage)}`,
        attempts: header(message.headers, Headers.dltAttempts),
        value: (message.value?.toString() ?? '').slice(0, 200),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      if (replaying) {
        if (origin === undefined) throw new Error(`record ${partition}@${message.offset} has no dlt-original-topic header`);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          const s = header({ [k]: v }, k);
          if (!k.startsWith(DLT_HEADER_PREFIX) && s !== undefined) headers[k] = s;
        }
        headers[Headers.dltReplayedFrom] = `${topic}/${partition}@${message.offset}`;
        await producer.send({ topic: origin, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
        await consumer.commitOffsets([{ topic: topic!, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      }
      if (seen >= limit) done();
    },
  });
  const idle = setInterval(() => {
    if (Date.now() - last > idleMs) done();
  }, 200);
  await finished;
  clearInterval(idle);
  await consumer.disconnect();
  if (replaying) await producer.disconnect();
  process.stdout.write(`${replaying ? 'replayed' : 'listed'} ${seen} record(s) from ${topic}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dlt: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
