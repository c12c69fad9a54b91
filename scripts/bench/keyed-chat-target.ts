import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createTokenService } from '../../src/auth/token-service';
import { createChatConnection } from '../../client/src/chat-connection';
import { isUnknownTopic } from '../../src/adapters/kafka/kafka-errors';
import { sessionMirrorRebuildMs, sessionMirrorSinceKey } from '../../src/adapters/redis/redis-session-mirror';
import { isServerErrorCode, type ChatError } from '../../client/src/chat-error';
import type { BenchConnection, ChatTarget, ConnectionEvents } from './chat-target';
import { mapLimit } from './chat-target';
import { KAFKA_HOPS } from './kafka-hops';
import { startNode, type NodeProcess } from './node-process';
import { recordsWritten } from './scratch-topics';

export interface KeyedChatTargetOptions {
  brokers: readonly string[];
  databaseUrl: string;
  redisUrl: string;
  /** Instances. Default 3. */
  nodes?: number;
  /** bcrypt cost for registered users (the product's default is 10). */
  bcryptCost?: number;
  /** Partitions of the request topics. Default 12, as `infra.sh up` makes them. */
  partitions?: number;
  /** Extra node flags for every instance (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Run the instances from another checkout (a baseline commit), under this name. */
  root?: string;
  name?: string;
  /** Environment overrides for every instance (a configuration variant). */
  extraEnv?: Record<string, string>;
  /** Kafka hops per delivery in this checkout's design (scripts/bench/kafka-hops.ts). */
  kafkaHops?: number;
  /** Write each instance's log (LOG_LEVEL info) to `<logDir>/<name>-<n>.log`. */
  logDir?: string;
}

const ISSUER = 'keyed-chat-bench';
const AUDIENCE = 'keyed-chat-bench-clients';

async function post<T>(url: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

/**
 * Our cluster: N instances of src/main.ts on the real Kafka, PostgreSQL and Redis, with
 * per-run topics and group, production settings except the per-user and per-IP limits
 * (every benchmark client comes from 127.0.0.1 and sends far more than a person would).
 */
export function createKeyedChatTarget({
  brokers,
  databaseUrl,
  redisUrl,
  nodes = 3,
  bcryptCost = 10,
  partitions = 12,
  nodeArgs = [],
  root,
  name = 'keyed-chat',
  extraEnv = {},
  logDir,
  kafkaHops = KAFKA_HOPS,
}: KeyedChatTargetOptions): ChatTarget & {
  login(userId: string, password: string, node: number): Promise<number>;
  readonly password: string;
} {
  const run = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const secret = randomBytes(32).toString('hex');
  const tokens = createTokenService({ secret, issuer: ISSUER, audience: AUDIENCE });
  const password = 'bench password 0123';
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: logDir === undefined ? 'warn' : 'info',
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_LOGIN: `${run}.login-request`,
    KAFKA_TOPIC_CHAT: `${run}.chat-request`,
    KAFKA_INBOX_PREFIX: `${run}.inbox`,
    KAFKA_OWNER_GROUP: `${run}.owners`,
    KAFKA_TOPIC_BROADCAST: `${run}.broadcast`,
    KAFKA_PARTITIONS: String(partitions),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: secret,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    BCRYPT_COST: String(bcryptCost),
    SEND_RATE_PER_SEC: '10000',
    SEND_BURST: '10000',
    WS_MSG_RATE_PER_SEC: '10000',
    WS_MSG_BURST: '100000',
    WS_HANDSHAKES_PER_MIN: '1000000',
    // Every benchmark socket comes from 127.0.0.1, and the idle-memory figure holds 10,000.
    WS_MAX_CONNECTIONS_PER_IP: '1000000',
    WS_MAX_CONNECTIONS: '1000000',
    LOGIN_MAX_FAILURES_PER_IP: '1000000',
    REGISTER_MAX_PER_IP: '1000000',
    ...extraEnv,
  };
  let procs: NodeProcess[] = [];
  const url = (node: number): string => `http://127.0.0.1:${procs[node % procs.length]!.port}`;
  /** The sum over the instances of the /metrics samples whose line starts with `prefix`. */
  const metricTotal = async (prefix: string): Promise<number> => {
    const counts = await Promise.all(
      procs.map(async (p) => {
        const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
        return text
          .split('\n')
          .filter((l) => l.startsWith(prefix))
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  };

  return {
    name,
    password,
    async start() {
      // One at a time: the first creates the topics, the others join its group.
      for (let i = 0; i < nodes; i++) {
        procs.push(
          await startNode({
            name: `${name}-${i + 1}`,
            script: 'src/main.ts',
            ...(root === undefined ? {} : { root }),
            env: { ...env, INSTANCE_ID: `${run}-${i + 1}` },
            nodeArgs,
            ...(logDir === undefined ? {} : { logFile: join(logDir, `${name}-${i + 1}.log`) }),
            ready: async (port) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
          }),
        );
      }
      // Every instance owns partitions before the clock starts.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ready = await Promise.all(procs.map(async (p) => (await fetch(`http://127.0.0.1:${p.port}/readyz`)).status === 200));
        if (ready.every(Boolean)) break;
        if (Date.now() > deadline) throw new Error('instances did not all become ready');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async prepare(users, rooms) {
      await mapLimit(users, 8, async (userId, i) => {
        const res = await post(`${url(i)}/api/auth/register`, { userId, password });
        if (res.status !== 201) throw new Error(`register ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
      });
      return mapLimit(rooms, 8, async (members, i) => {
        const [creator, ...rest] = members;
        const res = await post<{ roomId: string }>(
          `${url(i)}/api/rooms`,
          { name: `bench room ${i}`, members: rest },
          tokens.issue(creator!).token,
        );
        if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.roomId;
      });
    },
    async connect(userId, rooms, node, events: ConnectionEvents): Promise<BenchConnection> {
      const connection = createChatConnection({
        url: url(node),
        token: () => tokens.issue(userId).token,
        webSocket: (socketUrl) => new WebSocket(socketUrl, { perMessageDeflate: false }),
        // The rooms are new (prepare made them): following them from seq 0 resumes nothing.
        rooms: Object.fromEntries(rooms.map((roomId) => [roomId, 0])),
        // The instances' limits are lifted (WS_MSG_RATE_PER_SEC above): the package's
        // pacing, tuned to the default limits, would be the bottleneck measured.
        framesPerSecond: Number(env['WS_MSG_RATE_PER_SEC']),
        frameBurst: Number(env['WS_MSG_BURST']),
      });
      connection.on('message', (message) => {
        if (message.senderId !== userId) events.onMessage(message.clientMsgId);
      });
      // Errors as the server gave them (every refusal, retried or not: what the run counts),
      // plus what the connection itself reports (policy close, auth lost, frame too large).
      connection.on('frame', (frame) => {
        if (frame.type === 'error') events.onError(frame.code, frame.ref);
      });
      connection.on('problem', (problem) => {
        if (problem.kind !== 'refused' && problem.kind !== 'room-refused') events.onError(problem.error.code, undefined);
      });
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const fail = (why: string): void => {
          settled = true;
          clearTimeout(timer);
          connection.close();
          reject(new Error(`${userId}: ${why}`));
        };
        const timer = setTimeout(() => fail('no ready within 60 s'), 60_000);
        // Until the first ready only: after it, the connection reconnects on its own.
        connection.on('state', ({ state, detail }) => {
          if (settled) return;
          if (state === 'open') {
            settled = true;
            clearTimeout(timer);
            resolve();
          } else if (state !== 'connecting') fail(`${detail} before ready`);
        });
        connection.connect();
      });
      return {
        send: (roomId, clientMsgId, text) =>
          void connection.send(roomId, text, { clientMsgId }).then(
            () => events.onAck(clientMsgId),
            // A server refusal was reported from its frame; the rest (closed, auth lost…) here.
            (error: ChatError) => {
              if (!isServerErrorCode(error.code)) events.onError(error.code, clientMsgId);
            },
          ),
        close: () => connection.close(),
      };
    },
    async login(userId, pw, node) {
      return (await post(`${url(node)}/api/auth/login`, { userId, password: pw })).status;
    },
    pids: () => procs.map((p) => p.child.pid!),
    kafkaHops,
    kafkaRecords: () => recordsWritten({ brokers, prefix: run }),
    // chat_kafka_fetches_total summed over the instances (a checkout without it reads 0).
    kafkaFetches: () => metricTotal('chat_kafka_fetches_total{'),
    fallbackFanOuts: () => metricTotal('chat_fanouts_total{path="via-owner"}'),
    async settle(say) {
      // The instances trust the session directory once sessionMirrorRebuildMs has passed
      // since its marker was set (src/adapters/redis/redis-session-mirror.ts): the first
      // session written to a brand-new Redis sets it, so on a fresh machine the first minute
      // of a run would measure the fallback path. A checkout without the marker waits nothing.
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        const since = Number(await redis.get(sessionMirrorSinceKey()));
        // 30 000: the config's default SESSION_REANNOUNCE_MS.
        const trustedAt = since + sessionMirrorRebuildMs(Number(env['SESSION_REANNOUNCE_MS'] ?? 30_000)) + 1_000;
        if (Number.isFinite(since) && since > 0 && trustedAt > Date.now()) {
          say(
            `== ${name}: waiting ${((trustedAt - Date.now()) / 1000).toFixed(0)} s until the session directory is trusted (a fresh Redis)`,
          );
          await new Promise((resolve) => setTimeout(resolve, trustedAt - Date.now()));
        }
      } finally {
        redis.disconnect();
      }
    },
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
      procs = [];
      // The run's topics go with it: a benchmark leaves no 12-partition topics behind.
      const admin = new Kafka({ clientId: 'bench-cleanup', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
      try {
        await admin.connect();
        // One at a time, and one already gone is fine: the instances delete their own
        // inboxes as they stop, and a listing may still show one a moment after.
        for (const topic of (await admin.listTopics()).filter((t) => t.startsWith(run)))
          await admin.deleteTopics({ topics: [topic] }).catch((error: unknown) => {
            if (!isUnknownTopic(error)) throw error;
          });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
