import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteTopics, randomName, randomTopics, requireKafka, requirePostgres, requireRedis, waitFor, type TestTopics } from './infra';
import { realEnv } from './apps';
import { getJson, logContext, postJson, startInstance, type InstanceProcess } from './processes';
import { ResilientClient, deliveryCounts, tallyDeliveries, type DeliveryCounts } from './chat-client';

/**
 * The harness of the fault tests (test/faults): a few instance processes on the real
 * cluster, users in rooms of four, ResilientClients sending continuously, and the count of
 * what was acked against what every member received.
 */
export type Counts = DeliveryCounts & {
  /** Sends (sender + clientMsgId) stored as more than one message: duplicates under different ids. */
  restored: number;
};

export interface FaultCluster {
  readonly instances: InstanceProcess[];
  readonly users: readonly string[];
  readonly rooms: readonly { roomId: string; members: string[] }[];
  readonly tokens: ReadonlyMap<string, string>;
  /** URLs of the instances still running: where clients (re)connect. */
  live(): string[];
  /** Starts one more instance with the cluster's env and waits until it is ready. */
  addInstance(name: string): Promise<InstanceProcess>;
  /** One ResilientClient per user, connected (each waits for its `ready`). */
  connectClients(): Promise<ResilientClient[]>;
  stop(): Promise<void>;
}

const password = 'correct horse battery';

/** Starts `instanceCount` instances, registers and logs in `userCount` users, and puts them in rooms of four. */
export async function startFaultCluster(
  env: Record<string, string>,
  { instanceCount = 3, userCount = 12, prefix = 'fault' } = {},
): Promise<FaultCluster> {
  const instances: InstanceProcess[] = [];
  const users = Array.from({ length: userCount }, (_, i) => `${randomName(prefix)}-${i}`);
  const rooms: { roomId: string; members: string[] }[] = [];
  const tokens = new Map<string, string>();
  const live = (): string[] => instances.filter((i) => i.child.exitCode === null && i.child.signalCode === null).map((i) => i.url);
  const ready = (i: InstanceProcess) =>
    waitFor(`${i.name} ready`, async () => (await getJson(`${i.url}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 250 });
  const addInstance = async (name: string): Promise<InstanceProcess> => {
    const instance = await startInstance(name, env);
    instances.push(instance);
    await ready(instance);
    return instance;
  };
  const cluster: FaultCluster = {
    instances,
    users,
    rooms,
    tokens,
    live,
    addInstance,
    async connectClients() {
      const clients = users.map(
        (u, i) =>
          new ResilientClient(
            u,
            tokens.get(u)!,
            live,
            i,
            rooms.filter((r) => r.members.includes(u)).map((r) => r.roomId),
          ),
      );
      await Promise.all(clients.map((c) => c.connect()));
      return clients;
    },
    async stop() {
      for (const i of instances) await i.stop('SIGKILL');
      // For a post-mortem: every instance's full JSON log, when asked for.
      const dir = process.env['TEST_FAULT_LOG_DIR'];
      if (dir !== undefined) {
        mkdirSync(dir, { recursive: true });
        for (const i of instances) writeFileSync(join(dir, `${i.name}.jsonl`), i.logs.map((l) => JSON.stringify(l)).join('\n'));
      }
    },
  };
  try {
    for (let n = 1; n <= instanceCount; n++) instances.push(await startInstance(`${prefix}-${n}`, env));
    await Promise.all(instances.map(ready));
    const at = (k: number) => instances[k % instances.length]!.url;
    for (const [k, u] of users.entries()) {
      const reg = await postJson(`${at(k)}/api/auth/register`, { userId: u, password });
      if (reg.status !== 201) throw new Error(`register ${u}: ${reg.status} ${JSON.stringify(reg.body)}`);
      const res = await postJson<{ token: string }>(`${at(k + 1)}/api/auth/login`, { userId: u, password });
      if (res.status !== 200) throw new Error(`login ${u}: ${res.status} ${JSON.stringify(res.body)}`);
      tokens.set(u, res.body.token);
    }
    for (let k = 0; k * 4 < users.length; k++) {
      const members = users.slice(k * 4, k * 4 + 4);
      const res = await postJson<{ roomId: string; members: string[] }>(
        `${at(k)}/api/rooms`,
        { name: `${prefix} room ${k}`, members: members.slice(1) },
        tokens.get(members[0]!),
      );
      if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
      rooms.push(res.body);
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Lets a load run for a while: a duration of the scenario, never a wait for a condition (that is waitFor). */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Every client sends one message to its first room every `intervalMs` (clientMsgId
 * `<label>-<user>-<n>`) until `stop()`, which resolves with the number of rounds.
 */
export function startLoad(
  cluster: FaultCluster,
  clients: readonly ResilientClient[],
  label: string,
  intervalMs = 100,
): { stop(): Promise<number> } {
  let n = 0;
  let sending = true;
  const loop = (async () => {
    while (sending) {
      for (const c of clients) {
        const room = cluster.rooms.find((r) => r.members.includes(c.userId))!;
        c.send(room.roomId, `${label}-${c.userId}-${n}`, `${label} ${n}`);
      }
      n++;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      sending = false;
      await loop;
      return n;
    },
  };
}

/** Every `everyMs`, one line: seconds since start, acked, pending, clients ready; `stop()` returns the lines. */
export function trackProgress(clients: readonly ResilientClient[], everyMs = 2_000): { stop(): string } {
  const started = Date.now();
  const lines: string[] = [];
  const timer = setInterval(() => {
    const acked = clients.reduce((s, c) => s + c.acked.size, 0);
    const pending = clients.reduce((s, c) => s + c.pendingCount(), 0);
    lines.push(
      `${((Date.now() - started) / 1000).toFixed(0)}s acked ${acked} pending ${pending} ready ${clients.filter((c) => c.isReady()).length}/${clients.length}`,
    );
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return lines.join('\n');
    },
  };
}

/** Waits (bounded) until no client has an unacked send; on failure, says who is stuck and why. */
export async function waitAllAcked(
  label: string,
  cluster: FaultCluster,
  clients: readonly ResilientClient[],
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await waitFor(`${label}: every send acked`, () => clients.every((c) => c.pendingCount() === 0), { timeoutMs, intervalMs: 200 });
  } catch (error) {
    const stuck = clients.filter((c) => c.pendingCount() > 0).map((c) => c.describe());
    const state = await instanceState(cluster);
    await Promise.all(clients.map((c) => c.stop()));
    throw new Error(`${String(error)}\n${stuck.join('\n')}\n${state}\n${logContext(cluster.instances, [])}`);
  }
}

/** Each live instance's /readyz answer and owner-side lag, for a failure message. */
export async function instanceState(cluster: FaultCluster): Promise<string> {
  const lines = await Promise.all(
    cluster.instances
      .filter((i) => cluster.live().includes(i.url))
      .map(async (i) => {
        try {
          const ready = await getJson(`${i.url}/readyz`);
          const metrics = await (await fetch(`${i.url}/metrics`)).text();
          const lagging = metrics.split('\n').filter((l) => l.startsWith('chat_consumer_lag{') && !l.endsWith(' 0'));
          return `${i.name}: readyz ${ready.status} ${JSON.stringify(ready.body)}; lag ${lagging.join(' ') || 'none'}`;
        } catch (error) {
          return `${i.name}: ${String(error)}`;
        }
      }),
  );
  return lines.join('\n');
}

/**
 * Counts, per member, which acked messages of its rooms (sent by others) it received,
 * waiting (bounded) for deliveries in flight; stops the clients and prints the counts.
 */
export async function countDeliveries(label: string, cluster: FaultCluster, clients: readonly ResilientClient[]): Promise<Counts> {
  const tally = await tallyDeliveries(label, cluster.rooms, clients);
  const { acked } = tally;
  const counts: Counts = { ...deliveryCounts(tally), restored: 0 };
  const idsOf = new Map<string, Set<string>>();
  for (const m of [...acked.values(), ...clients.flatMap((c) => c.received)]) {
    const key = `${m.senderId}/${m.clientMsgId}`;
    idsOf.set(key, (idsOf.get(key) ?? new Set()).add(m.id));
  }
  counts.restored = [...idsOf.values()].filter((ids) => ids.size > 1).length;
  await Promise.all(clients.map((c) => c.stop()));
  console.log(
    `${label}: acked ${counts.acked}, delivered ${counts.delivered}/${counts.expectedDeliveries}, lost ${counts.lost}, duplicates ${counts.duplicates}, stored twice ${counts.restored} (re-fetched by resume and dropped by id: ${counts.refetched}; resumes asked again on a socket: ${counts.resumesRepeated}), reconnects ${clients.reduce((s, c) => s + c.reconnects, 0)}`,
  );
  return counts;
}

/**
 * Registers beforeAll/afterAll for a fault test file: fresh topics, a fault cluster on them
 * (infrastructure required: it fails loudly without), and in afterAll the instances
 * stopped, `restore` run (e.g. brokers started again, whatever the test did) and the
 * topics deleted. `cluster()` is for the tests.
 */
export function useFaultCluster(
  prefix: string,
  { restore }: { restore?: () => Promise<void> } = {},
): { topics: TestTopics; env: Record<string, string>; cluster: () => FaultCluster } {
  const topics = randomTopics(12);
  // A reconnecting client re-sends everything unacked at once: the limits leave room for it.
  const env = realEnv(topics, {
    LOG_LEVEL: process.env['TEST_INSTANCE_LOG_LEVEL'] ?? 'info',
    SEND_BURST: '200',
    SEND_RATE_PER_SEC: '100',
    WS_MSG_BURST: '1000',
    WS_MSG_RATE_PER_SEC: '200',
  });
  let cluster: FaultCluster | undefined;
  beforeAll(async () => {
    await Promise.all([requireKafka(), requirePostgres(), requireRedis()]);
    cluster = await startFaultCluster(env, { prefix });
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
    if (restore !== undefined) await restore();
    await deleteTopics(topics.login.split('.')[0]!);
  }, 200_000);
  return {
    topics,
    env,
    cluster: () => {
      if (cluster === undefined) throw new Error('the fault cluster did not start (see beforeAll)');
      return cluster;
    },
  };
}

/** Runs a load with `fault` in the middle (2 s in, then 4 s more), waits for every ack, and counts. */
export async function underLoad(
  label: string,
  cluster: FaultCluster,
  fault: () => Promise<void>,
  { beforeMs = 2_000, afterMs = 4_000 } = {},
): Promise<Counts> {
  const clients = await cluster.connectClients();
  const load = startLoad(cluster, clients, label);
  await pause(beforeMs);
  await fault();
  await pause(afterMs);
  await load.stop();
  await waitAllAcked(label, cluster, clients);
  return countDeliveries(label, cluster, clients);
}
