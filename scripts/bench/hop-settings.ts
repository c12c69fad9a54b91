/**
 * `npx tsx scripts/bench/hop-settings.ts --idle-fix on|off [--commits periodic|every-batch] [--rates 50,200,1000] [--seconds 10] [--fan-out 0] [--jit-warmup 5]`:
 * the bare kafkajs hop (or path, with --fan-out k) at each rate, with or without the idle
 * fix of kafkajs's request queues that ours load (src/adapters/kafka/kafkajs-idle-fix.ts),
 * and with the consumers committing as ours do (periodic: the reader never, a relay every
 * second) or as kafkajs does by default (after every batch). The fix patches kafkajs for the
 * whole process, so each setting is its own process: run them alternately. Each process
 * first runs the hop at 1000 msg/s for --jit-warmup seconds, unreported, so its kafkajs
 * code is compiled before anything counts (the order would otherwise favour the later
 * runs). Prints kafkajs's CPU per message (this process, after each run's warm-up) and the
 * latency, on the infra.sh cluster.
 */
import { parseArgs } from 'node:util';
import { runKafkajsHop } from './kafkajs-hop';
import { createScratchTopics, LOCAL_BROKERS } from './scratch-topics';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '50,200,1000' },
    seconds: { type: 'string', default: '10' },
    'fan-out': { type: 'string', default: '0' },
    'idle-fix': { type: 'string' },
    'jit-warmup': { type: 'string', default: '5' },
    commits: { type: 'string', default: 'periodic' },
  },
});
if (values['idle-fix'] !== 'on' && values['idle-fix'] !== 'off') throw new Error('--idle-fix on|off is required');
const idleFix = values['idle-fix'] === 'on';
const jitWarmupS = Number(values['jit-warmup']);
if (values.commits !== 'periodic' && values.commits !== 'every-batch') throw new Error('--commits periodic|every-batch');
const commits = values.commits;
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const fanOut = Number(values['fan-out']);

async function main(): Promise<void> {
  const topics = createScratchTopics({ brokers: LOCAL_BROKERS, prefix: `bench-hop-settings-${Date.now().toString(36)}` });
  try {
    const label = `${idleFix ? 'idle fix' : 'no idle fix'}, commits ${commits}`;
    if (jitWarmupS > 0) {
      const topic = await topics.createHop('jit-warm-up', fanOut);
      await runKafkajsHop({ brokers: LOCAL_BROKERS, topic, rate: 1000, seconds: jitWarmupS, fanOut, warmupS: 0, idleFix, commits });
    }
    for (const rate of rates) {
      const topic = await topics.createHop(`r${rate}`, fanOut);
      const r = await runKafkajsHop({ brokers: LOCAL_BROKERS, topic, rate, seconds, fanOut, warmupS: 3, idleFix, commits });
      console.log(
        `${label}  ${rate} msg/s  fan-out ${fanOut}  ${r.received} read  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  kafkajs ${(r.cpuMs / Math.max(1, r.measuredMessages)).toFixed(3)} ms CPU/message (${(r.cpuMs / 1000 / (r.measuredMessages / rate)).toFixed(3)} cores over its sending)`,
      );
    }
  } finally {
    await topics.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
