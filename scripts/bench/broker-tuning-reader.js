// Bare kafkajs reader for scripts/bench/broker-tuning.sh: one consumer (its own group),
// minBytes 1 (kafkajs' default maxWait 5000 ms), reading one topic from the latest offset.
// Prints "ready" once it has been assigned partitions, then on SIGTERM prints
// "records=<n> batches=<b>" (batches ~ non-empty fetch answers) and exits.
// usage: node broker-tuning-reader.js <brokers> <topic>
'use strict';
const path = require('path');
const { Kafka, logLevel } = require(
  require.resolve('kafkajs', {
    paths: [process.cwd(), path.join(__dirname, '../..'), '/work/main'],
  }),
);
const [brokers, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'broker-tuning-reader', brokers: brokers.split(','), logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: `broker-tuning-${topic}-${process.pid}`, minBytes: 1 });
let records = 0,
  batches = 0,
  ready = false;
consumer.on(consumer.events.GROUP_JOIN, () => {
  if (!ready) {
    ready = true;
    console.log('ready');
  }
});
async function main() {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      batches++;
      records += batch.messages.length;
    },
  });
}
async function stop() {
  console.log(`records=${records} batches=${batches}`);
  await consumer.disconnect().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
