/**
 * Our Kafka bus without database or WebSocket (not a floor: our bus code is in it; the
 * Kafka floor, with none of our code, is measured by `npm run bench`, measure-floor.ts).
 * The records one chat message costs in our design, through our own Kafka
 * bus (src/adapters/kafka/kafka-bus.ts: the producer, natural batching, the owner group,
 * inboxes, validation), with nothing else — no PostgreSQL, no Redis, no WebSocket, no
 * gateway. Three instance processes as in the cluster; users user0…user(N-1), user i on instance
 * i mod 3, rooms of K consecutive users. Per message: `chat.send` keyed by the sender → the
 * sender's owner produces the `ack` relay and a `deliver` per other member → each member's
 * owner produces a `relay` to the member's instance → its inbox takes the time.
 *
 * What it tells: the latency and CPU of our Kafka path (bus code, kafkajs, brokers) alone
 * on this machine, so a figure of the full benchmark can be split into that path and the
 * rest (PostgreSQL, Redis, the WebSocket gateway).
 *
 *   npx tsx scripts/bench/bus-only.ts [--rates 50,100,200] [--duration 15] [--clients 300] [--room-size 5]
 *                                        [--fetch-min-bytes 1] [--fetch-max-wait 250]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaBus } from '../../src/adapters/kafka/kafka-bus';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { makeRecord } from '../../src/protocol/envelope';
import type { Bus, OutboundRecord } from '../../src/ports/bus';
import { cpuMs, machineTicks, waitMachineQuiet } from './node-process';
import { round, summarize } from './stats';
import { LOCAL_BROKERS } from './scratch-topics';

const NODES = 3;
/** User ids are USER + index (user ids have a minimum length). */
const USER = 'user';

type FromChild = { kind: 'ready' } | { kind: 'samples'; deliveries: number[]; acks: number } | { kind: 'sent'; count: number };
type ToChild = { kind: 'load'; rate: number; seconds: number } | { kind: 'report' } | { kind: 'stop' };

const wallNow = (): number => performance.timeOrigin + performance.now();

interface Plan {
  readonly clients: number;
  readonly roomSize: number;
  readonly runId: string;
  /** The bus's consumer fetch settings (KAFKA_FETCH_MIN_BYTES / KAFKA_FETCH_MAX_WAIT_MS in the product). */
  readonly fetchMinBytes: number;
  readonly fetchMaxWaitMs: number;
}
const instanceOf = (user: number): number => user % NODES;
const membersOf = (user: number, { roomSize, clients }: Plan): number[] => {
  const first = Math.floor(user / roomSize) * roomSize;
  return Array.from({ length: roomSize }, (_, k) => first + k).filter((u) => u < clients);
};

/** One instance: our Kafka bus with owner and inbox listeners that do only the fan-out. */
async function child(index: number, plan: Plan): Promise<void> {
  const instanceId = `busonly-${plan.runId}-${index}`;
  const logger = createLogger({ level: 'warn', instanceId });
  const idOf = (i: number): string => `busonly-${plan.runId}-${i}`;
  const topics = {
    login: `busonly-login-${plan.runId}`,
    chat: `busonly-chat-${plan.runId}`,
    inboxPrefix: `busonly-inbox-${plan.runId}`,
    ownerGroup: `busonly-owners-${plan.runId}`,
    broadcast: `busonly-broadcast-${plan.runId}`,
    partitions: 12,
  };
  const deliveries: number[] = [];
  let acks = 0;
  const bus: Bus = createKafkaBus({
    instanceId,
    brokers: LOCAL_BROKERS,
    topics,
    fetchMinBytes: plan.fetchMinBytes,
    fetchMaxWaitMs: plan.fetchMaxWaitMs,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  bus.openInbox(async ({ record }) => {
    if (record.type !== 'relay') return;
    const { frame } = record.payload;
    if (frame.type === 'ack') acks++;
    else if (frame.type === 'message') deliveries.push(wallNow() - Number(frame.message.text));
  });
  bus.joinOwnerGroup({
    async onRecord({ record }) {
      const out: OutboundRecord[] = [];
      if (record.type === 'chat.send') {
        const sender = Number(record.userId.slice(USER.length));
        const { roomId, clientMsgId, text, instanceId: from, connectionId } = record.payload;
        const message = { id: record.id, roomId, seq: 1, senderId: record.userId, text, ts: new Date().toISOString(), clientMsgId };
        out.push({
          topic: bus.inboxTopicOf(from),
          key: record.userId,
          record: makeRecord('relay', record.userId, { connectionIds: [connectionId], frame: { type: 'ack', clientMsgId, message } }),
        });
        for (const m of membersOf(sender, plan))
          if (m !== sender)
            out.push({
              topic: topics.chat,
              key: `${USER}${m}`,
              record: makeRecord('deliver', `${USER}${m}`, { frame: { type: 'message', message } }),
            });
      } else if (record.type === 'deliver') {
        const member = Number(record.userId.slice(USER.length));
        out.push({
          topic: bus.inboxTopicOf(idOf(instanceOf(member))),
          key: record.userId,
          record: makeRecord('relay', record.userId, { connectionIds: [`c${member}`], frame: record.payload.frame }),
        });
      }
      return { published: bus.publish(out) };
    },
    onAssigned() {},
    onRevoked() {},
  });
  await bus.start();
  const mine = Array.from({ length: plan.clients }, (_, u) => u).filter((u) => instanceOf(u) === index);
  const send = (seq: number): void => {
    const user = mine[seq % mine.length]!;
    const userId = `${USER}${user}`;
    const record = makeRecord('chat.send', userId, {
      instanceId,
      connectionId: `c${user}`,
      roomId: `room-${Math.floor(user / plan.roomSize)}`,
      clientMsgId: `m${seq}-${randomBytes(4).toString('hex')}`,
      text: String(wallNow()),
    });
    bus.publish([{ topic: topics.chat, key: userId, record }]).catch(() => undefined);
  };
  process.on('message', (msg: ToChild) => {
    switch (msg.kind) {
      case 'load': {
        // Open loop: sends go out on schedule whatever the cluster does.
        const total = Math.round(msg.rate * msg.seconds);
        const started = performance.now();
        let sent = 0;
        const tick = (): void => {
          const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * msg.rate));
          while (sent < due) send(sent++);
          if (sent < total) setTimeout(tick, 2);
          else process.send?.({ kind: 'sent', count: sent } satisfies FromChild);
        };
        tick();
        return;
      }
      case 'report':
        process.send?.({ kind: 'samples', deliveries: deliveries.splice(0), acks } satisfies FromChild);
        acks = 0;
        return;
      case 'stop':
        void bus.stop().finally(() => process.exit(0));
        return;
    }
  });
  process.send?.({ kind: 'ready' } satisfies FromChild);
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '50,100,200' },
      duration: { type: 'string', default: '15' },
      clients: { type: 'string', default: '300' },
      'room-size': { type: 'string', default: '5' },
      'fetch-min-bytes': { type: 'string', default: '1' },
      'fetch-max-wait': { type: 'string', default: '250' },
    },
  });
  const plan: Plan = {
    clients: Number(values.clients),
    roomSize: Number(values['room-size']),
    runId: randomBytes(3).toString('hex'),
    fetchMinBytes: Number(values['fetch-min-bytes']),
    fetchMaxWaitMs: Number(values['fetch-max-wait']),
  };
  const seconds = Number(values.duration);
  const children: ChildProcess[] = [];
  const waitFor = <K extends FromChild['kind']>(c: ChildProcess, kind: K): Promise<Extract<FromChild, { kind: K }>> =>
    new Promise((resolve) => {
      const on = (m: FromChild): void => {
        if (m.kind !== kind) return;
        c.off('message', on);
        resolve(m as Extract<FromChild, { kind: K }>);
      };
      c.on('message', on);
    });
  for (let i = 0; i < NODES; i++)
    children.push(
      fork(__filename, [], {
        env: { ...process.env, BUS_ONLY_CHILD: String(i), BUS_ONLY_PLAN: JSON.stringify(plan) },
        execArgv: process.execArgv,
      }),
    );
  await Promise.all(children.map((c) => waitFor(c, 'ready')));
  process.stdout.write(
    `bus only: ${plan.clients} users, rooms of ${plan.roomSize}, ${NODES} instance processes, fetch min ${plan.fetchMinBytes} bytes / max wait ${plan.fetchMaxWaitMs} ms, run ${plan.runId}\n`,
  );
  for (const rate of values.rates.split(',').map(Number)) {
    await waitMachineQuiet();
    const [cpu0, m0] = [await Promise.all(children.map((c) => cpuMs(c.pid!))), await machineTicks()];
    const t0 = performance.now();
    children.forEach((c) => c.send({ kind: 'load', rate: rate / NODES, seconds } satisfies ToChild));
    const sent = (await Promise.all(children.map((c) => waitFor(c, 'sent')))).reduce((a, s) => a + s.count, 0);
    const [cpu1, m1] = [await Promise.all(children.map((c) => cpuMs(c.pid!))), await machineTicks()];
    const elapsedMs = performance.now() - t0;
    // Let the tail arrive (bounded), then collect.
    const expected = sent * (plan.roomSize - 1);
    let deliveries: number[] = [];
    let acks = 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_000));
      children.forEach((c) => c.send({ kind: 'report' } satisfies ToChild));
      for (const s of await Promise.all(children.map((c) => waitFor(c, 'samples')))) {
        deliveries = deliveries.concat(s.deliveries);
        acks += s.acks;
      }
      if (deliveries.length >= expected && acks >= sent) break;
    }
    const lat = summarize(deliveries);
    const serverCores = round(cpu1.reduce((a, c, i) => a + c - cpu0[i]!, 0) / elapsedMs, 2);
    const machineCores = round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 2, 2);
    process.stdout.write(
      `bus-only offered ${String(rate).padStart(5)}/s  sent ${sent} acked ${acks}  deliveries ${deliveries.length}/${expected}  p50 ${round(lat.p50)}  p95 ${round(lat.p95)}  p99 ${round(lat.p99)} ms  instances ${serverCores} cores (machine ${machineCores})\n`,
    );
  }
  children.forEach((c) => c.send({ kind: 'stop' } satisfies ToChild));
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  // This run's topics go with it.
  const admin = new Kafka({ clientId: 'bus-only-cleanup', brokers: [...LOCAL_BROKERS], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const ours = (await admin.listTopics()).filter((t) => t.includes(plan.runId));
  if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  await admin.disconnect();
}

if (process.env.BUS_ONLY_CHILD !== undefined) {
  void child(Number(process.env.BUS_ONLY_CHILD), JSON.parse(process.env.BUS_ONLY_PLAN ?? '{}') as Plan).catch((error: unknown) => {
    process.stderr.write(`bus-only instance failed: ${String(error)}\n`);
    process.exit(1);
  });
} else {
  parent().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bus-only failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
