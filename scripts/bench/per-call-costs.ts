/**
 * CPU per call of small things on a delivery's path, each alone in this process: to tell
 * which of them could matter against a delivery's ~0.2 ms before changing any
 * (docs/benchmarks.md, ninth round).
 *
 *   npx tsx scripts/bench/per-call-costs.ts [--rounds 3] [--calls 500000]
 *
 * Prints µs of this process's CPU per call, the median of the rounds, after a warm-up of
 * each. Monomorphic, hot and alone: a lower bound of what the same call costs among
 * everything else an instance runs.
 */
import { parseArgs } from 'node:util';
import { Partitioners } from 'kafkajs';
import { Counter, Histogram, Registry } from 'prom-client';
import { createKeyedPartitioner } from '../../src/adapters/kafka/keyed-partitioner';
import { recordTypeLabel } from '../../src/adapters/record-pipeline';
import { AnyRecordSchema, InboxTopicRecordSchema, RequestRecordSchema, makeRecord } from '../../src/protocol/envelope';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, calls: { type: 'string', default: '500000' } } });
const rounds = Number(values.rounds);
const calls = Number(values.calls);

const registry = new Registry();
const counter = new Counter({ name: 'c1', help: 'c1', labelNames: ['type'], registers: [registry] });
const counter3 = new Counter({ name: 'c3', help: 'c3', labelNames: ['source', 'type', 'outcome'], registers: [registry] });
const histogram = new Histogram({
  name: 'h',
  help: 'h',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});
const bound = counter.labels({ type: 'message' });
const bound3 = counter3.labels({ source: 'inbox', type: 'relay.batch', outcome: 'handled' });

const message = {
  id: 'a1b2c3d4-aaaa-bbbb-cccc-1234567890ab',
  roomId: 'room-17',
  seq: 1234,
  senderId: 'user_0042',
  text: 'x'.repeat(100),
  ts: new Date().toISOString(),
  clientMsgId: 'c-1234-5678',
};
const connection = '9b2e6a9e-1111-2222-3333-444455556666';
// What a sender's owner writes to one gateway for a message in a room of 5: the sender's ack and the message for two members.
const relay = makeRecord('relay.batch', 'user_0042', {
  parts: [
    { connectionIds: [connection], frame: { type: 'ack', clientMsgId: message.clientMsgId, message } },
    { connectionIds: [`${connection}-1`, `${connection}-2`], frame: { type: 'message', message } },
  ],
});
const send = makeRecord('chat.send', 'user_0042', {
  instanceId: 'instance-1',
  connectionId: connection,
  roomId: message.roomId,
  clientMsgId: message.clientMsgId,
  text: message.text,
});
const relayBytes = Buffer.from(JSON.stringify(relay));
const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({
  partitionErrorCode: 0,
  partitionId,
  leader: 1,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
}));
const partitionerArgs = { topic: 'inbox-1', partitionMetadata, message: { key: 'user_0042', value: '' } };
const kafkajsPartitioner = Partitioners.DefaultPartitioner();
const keyedPartitioner = createKeyedPartitioner();
const sendBytes = Buffer.from(JSON.stringify(send));

const cases: Record<string, () => unknown> = {
  'prom-client counter inc({type})': () => counter.inc({ type: 'message' }),
  'prom-client counter bound to its label, inc()': () => bound.inc(),
  'prom-client counter inc({3 labels})': () => counter3.inc({ source: 'inbox', type: 'relay.batch', outcome: 'handled' }),
  'prom-client counter bound to 3 labels, inc()': () => bound3.inc(),
  'prom-client histogram observe': () => histogram.observe(0.012),
  'record type label from the first bytes': () => recordTypeLabel(relayBytes),
  "kafkajs's DefaultPartitioner, a keyed record": () => kafkajsPartitioner(partitionerArgs),
  'createKeyedPartitioner, a keyed record': () => keyedPartitioner(partitionerArgs),
  'setInterval + clearInterval': () => clearInterval(setInterval(() => undefined, 3_000)),
  'Date.parse of an ISO time': () => Date.parse(message.ts),
  'relay.batch: JSON.parse': () => JSON.parse(relayBytes.toString('utf8')),
  'relay.batch: JSON.parse + inbox schema': () => InboxTopicRecordSchema.safeParse(JSON.parse(relayBytes.toString('utf8'))),
  'relay.batch: publisher schema': () => AnyRecordSchema.safeParse(relay),
  'relay.batch: JSON.stringify': () => JSON.stringify(relay),
  'chat.send: JSON.parse + request schema': () => RequestRecordSchema.safeParse(JSON.parse(sendBytes.toString('utf8'))),
  'chat.send: publisher schema': () => AnyRecordSchema.safeParse(send),
};

function usPerCall(f: () => unknown, n: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`| call | µs of CPU per call, median of ${rounds} × ${calls} |`);
console.log('| --- | --- |');
for (const [name, f] of Object.entries(cases)) {
  usPerCall(f, Math.min(calls, 50_000));
  const samples = Array.from({ length: rounds }, () => usPerCall(f, calls));
  console.log(`| ${name} | ${median(samples).toFixed(3)} |`);
}
