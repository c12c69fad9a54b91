/**
 * `npx tsx scripts/bench/hop-idle-fix.ts [--rates 50,200,1000] [--seconds 10] [--fan-out 0]`:
 * the bare kafkajs hop (or path, with --fan-out k) at each rate, first as kafkajs ships,
 * then with the idle fix of its request queues that ours load
 * (src/adapters/kafka/kafkajs-idle-fix.ts), in this one process: the fix patches kafkajs
 * for the whole process, so the runs without it come first. Prints kafkajs's CPU per
 * message (this process, after each run's warm-up) and the latency, on the infra.sh cluster.
 */
import { parseArgs } from 'node:util';
import { runKafkajsHop } from './kafkajs-hop';
import { createScratchTopics } from './scratch-topics';

const BROKERS = ['127.0.0.1:19092', '127.0.0.1:19093', '127.0.0.1:19094'];
const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '50,200,1000' },
    seconds: { type: 'string', default: '10' },
    'fan-out': { type: 'string', default: '0' },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const fanOut = Number(values['fan-out']);

async function main(): Promise<void> {
  const topics = createScratchTopics({ brokers: BROKERS, prefix: `bench-idlefix-${Date.now().toString(36)}` });
  try {
    for (const idleFix of [false, true]) {
      for (const rate of rates) {
        const topic = await topics.create(`${idleFix ? 'fixed' : 'shipped'}-${rate}`, 12);
        if (fanOut > 0) await topics.create(`${idleFix ? 'fixed' : 'shipped'}-${rate}-out`, 12);
        const r = await runKafkajsHop({ brokers: BROKERS, topic, rate, seconds, fanOut, warmupS: 3, idleFix });
        console.log(
          `${idleFix ? 'with the idle fix' : 'kafkajs as shipped'}  ${rate} msg/s  fan-out ${fanOut}  ${r.received} read  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  kafkajs ${(r.cpuMs / Math.max(1, r.measuredMessages)).toFixed(3)} ms CPU/message (${(r.cpuMs / 1000 / (r.measuredMessages / rate)).toFixed(3)} cores over its sending)`,
        );
      }
    }
  } finally {
    await topics.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
