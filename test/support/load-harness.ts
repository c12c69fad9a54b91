import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DATABASE_URL, deleteTopics, randomName, waitFor, type TestTopics } from './infra';
import { getJson, logContext, postJson, startInstance, type InstanceProcess } from './processes';
import { ResilientClient, deliveryCounts, tallyDeliveries, type DeliveryCounts } from './chat-client';
import type { Message } from '../../src/protocol/message';

/**
 * The shared part of the fault tests: N instances as OS processes, users in rooms of four,
 * continuous load from ResilientClients with a fault in the middle, and the counts that
 * say whether anything acked was lost.
 */

export type LoadCounts = DeliveryCounts & {
  /** Acked messages PostgreSQL does not hold with the acked id and seq: a false ack (checked when the harness is asked to). */
  ackedNotStored: number;
};

export interface LoadRoom {
  readonly roomId: string;
  readonly members: string[];
}

export interface LoadCluster {
  readonly instances: InstanceProcess[];
  readonly users: readonly string[];
  readonly rooms: readonly LoadRoom[];
  readonly tokens: ReadonlyMap<string, string>;
  readonly env: Record<string, string>;
  /** URLs of the instances whose process is still running. */
  live(): string[];
  /** Starts one more instance on the same environment and waits until it is ready. */
  addInstance(name: string): Promise<InstanceProcess>;
  stop(): Promise<void>;
}

export interface LoadClusterOptions {
  /** Instance names are `<name>-1`, `<name>-2`, …; user ids start with it. */
  readonly name: string;
  readonly instances: number;
  /** A multiple of 4: one room per four users. */
  readonly users: number;
  readonly topics: TestTopics;
  readonly env: Record<string, string>;
}

/** The password of every load-harness user. */
export const LOAD_PASSWORD = 'correct horse battery';

export async function waitReady(instance: InstanceProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${instance.name} ready`, async () => (await getJson(`${instance.url}/readyz`)).status === 200, {
    timeoutMs,
    intervalMs: 250,
  });
}

/** Starts the instances, registers and logs in the users, and makes the rooms (through different instances). */
export async function startLoadCluster({
  name,
  instances: count,
  users: userCount,
  topics,
  env,
}: LoadClusterOptions): Promise<LoadCluster> {
  const instances: InstanceProcess[] = [];
  const users = Array.from({ length: userCount }, (_, i) => `${randomName(name)}-${i}`);
  const tokens = new Map<string, string>();
  const rooms: LoadRoom[] = [];
  const cluster: LoadCluster = {
    instances,
    users,
    rooms,
    tokens,
    env,
    live: () => instances.filter((i) => i.child.exitCode === null && i.child.signalCode === null).map((i) => i.url),
    async addInstance(instanceName) {
      const instance = await startInstance(instanceName, env);
      instances.push(instance);
      await waitReady(instance);
      return instance;
    },
    async stop() {
      for (const i of instances) await i.stop('SIGKILL');
      await deleteTopics(topics.login.split('.')[0]!);
    },
  };
  try {
    for (let n = 1; n <= count; n++) instances.push(await startInstance(`${name}-${n}`, env));
    await Promise.all(instances.map((i) => waitReady(i)));
    const at = (k: number): string => instances[k % instances.length]!.url;
    for (const [k, u] of users.entries()) {
      expect((await postJson(`${at(k)}/api/auth/register`, { userId: u, password: LOAD_PASSWORD })).status).toBe(201);
      const res = await postJson<{ token: string }>(`${at(k + 1)}/api/auth/login`, { userId: u, password: LOAD_PASSWORD });
      expect(res.status).toBe(200);
      tokens.set(u, res.body.token);
    }
    for (let k = 0; k * 4 < users.length; k++) {
      const members = users.slice(k * 4, k * 4 + 4);
      const res = await postJson<LoadRoom>(
        `${at(k)}/api/rooms`,
        { name: `${name} room ${k}`, members: members.slice(1) },
        tokens.get(members[0]!),
      );
      expect(res.status).toBe(201);
      rooms.push(res.body);
    }
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

export interface LoadOptions {
  /** Prefix of the clientMsgIds and of the printed line. */
  readonly label: string;
  /** Runs after `warmupMs` of load; the load goes on while it runs and `afterFaultMs` after. */
  readonly fault: (clients: readonly ResilientClient[]) => Promise<void>;
  readonly warmupMs?: number;
  readonly afterFaultMs?: number;
  /** Bound on waiting for every send to be acked once the load stopped. */
  readonly ackTimeoutMs?: number;
  /** Check every acked message against PostgreSQL (id, room and seq). */
  readonly checkStored?: boolean;
  /** Called with the clients once they are connected, before the load starts. */
  readonly onConnected?: (clients: readonly ResilientClient[]) => void;
  /**
   * Each user sends one message every this many ms (default 100). Every message is one send
   * record and four deliver records, handled one at a time per partition: on a busy 2-core
   * machine a lighter load keeps the backlog a fault leaves drainable within the bounds.
   */
  readonly sendIntervalMs?: number;
}

/**
 * Every instance's whole log, to test-artifacts/<label>-<instance>.log, and what its
 * metrics say is stuck (non-zero lag): the context a failed fault test needs.
 */
export async function dumpForFailure(label: string, instances: readonly InstanceProcess[]): Promise<string> {
  const dir = join(__dirname, '..', '..', 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const i of instances) {
    writeFileSync(join(dir, `${label}-${i.name}.log`), i.logs.map((l) => JSON.stringify(l)).join('\n'));
    const metrics = await fetch(`${i.url}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    const stuck = metrics.split('\n').filter((l) => /^chat_consumer_lag\{/.test(l) && !/ 0$/.test(l));
    lines.push(`${i.name}: ${stuck.length === 0 ? 'no lag' : stuck.join('; ')}`);
  }
  return `${lines.join('\n')}\nfull logs in ${dir}/${label}-*.log`;
}

/** Acked messages that PostgreSQL does not hold as acked (same id, room and seq). */
async function countNotStored(acked: readonly Message[]): Promise<number> {
  if (acked.length === 0) return 0;
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const rows = await db.query<{ id: string; room_id: string; seq: number }>(
      'SELECT id, room_id, seq FROM messages WHERE id = ANY($1::text[])',
      [acked.map((m) => m.id)],
    );
    const stored = new Map(rows.rows.map((r) => [r.id, r]));
    return acked.filter((m) => {
      const row = stored.get(m.id);
      return row === undefined || row.room_id !== m.roomId || Number(row.seq) !== m.seq;
    }).length;
  } finally {
    await db.end();
  }
}

/**
 * Every user sends one message every `sendIntervalMs` to their room; `fault` runs in the middle.
 * Then: every send must be acked (bounded), and every acked message must reach every
 * other member of its room. Prints and returns the counts.
 */
export async function runLoad(
  cluster: LoadCluster,
  {
    label,
    fault,
    warmupMs = 2_000,
    afterFaultMs = 4_000,
    ackTimeoutMs = 60_000,
    checkStored = false,
    onConnected,
    sendIntervalMs = 100,
  }: LoadOptions,
): Promise<LoadCounts> {
  const { users, rooms, tokens, instances } = cluster;
  const clients = users.map(
    (u, i) =>
      new ResilientClient(
        u,
        tokens.get(u)!,
        () => cluster.live(),
        i,
        rooms.filter((r) => r.members.includes(u)).map((r) => r.roomId),
      ),
  );
  await Promise.all(clients.map((c) => c.connect()));
  onConnected?.(clients);
  let n = 0;
  let sending = true;
  const loop = (async () => {
    while (sending) {
      for (const c of clients) {
        const room = rooms.find((r) => r.members.includes(c.userId))!;
        c.send(room.roomId, `${label}-${c.userId}-${n}`, `${label} ${n}`);
      }
      n++;
      await new Promise((r) => setTimeout(r, sendIntervalMs));
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, warmupMs));
    await fault(clients);
    await new Promise((r) => setTimeout(r, afterFaultMs));
  } catch (error) {
    sending = false;
    await loop;
    await Promise.all(clients.map((c) => c.stop()));
    throw new Error(`${label}: the fault step failed: ${String(error)}\n${await dumpForFailure(label, instances)}`);
  } finally {
    sending = false;
    await loop;
  }
  try {
    await waitFor(`${label}: every send acked`, () => clients.every((c) => c.pendingCount() === 0), {
      timeoutMs: ackTimeoutMs,
      intervalMs: 200,
    });
  } catch (error) {
    const stuck = clients
      .filter((c) => c.pendingCount() > 0)
      .map((c) => c.describe())
      .join('\n');
    await Promise.all(clients.map((c) => c.stop()));
    throw new Error(`${String(error)}\n${stuck}\n${await dumpForFailure(label, instances)}\n${logContext(instances, [])}`);
  }

  const tally = await tallyDeliveries(label, rooms, clients);
  const { acked } = tally;
  const counts: LoadCounts = { ...deliveryCounts(tally), ackedNotStored: 0 };
  await Promise.all(clients.map((c) => c.stop()));
  if (checkStored) counts.ackedNotStored = await countNotStored([...acked.values()]);
  console.log(
    `${label}: acked ${counts.acked}, delivered ${counts.delivered}/${counts.expectedDeliveries}, lost ${counts.lost}, duplicates ${counts.duplicates} (re-fetched by resume and dropped by id: ${counts.refetched}; resumes asked again on a socket: ${counts.resumesRepeated}), reconnects ${counts.reconnects}${checkStored ? `, acked but not stored ${counts.ackedNotStored}` : ''}`,
  );
  return counts;
}
