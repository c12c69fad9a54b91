import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { Headers } from '../../src/protocol/headers';
import { realEnv } from '../support/apps';
import { randomName, randomTopics, requirePostgres, requireRedis, silentLogger, waitFor } from '../support/infra';
import { secureKafka, type SecureKafka } from '../support/secure-kafka';
import { subscribeWhenKnown } from '../support/group-members';
import { postJson } from '../support/processes';
import { TestClient } from '../support/ws-client';

/**
 * The product over Kafka's SASL_SSL listener (TLS with infra.sh's own CA; SASL PLAIN and
 * SCRAM, as managed Kafka offers them): login, chat and a dead-lettered record go through
 * it; wrong credentials and a missing CA fail the start at once with a clear message.
 */
describe('Kafka over SASL_SSL', () => {
  let secure: SecureKafka;
  const topics = randomTopics(3);
  const apps: App[] = [];
  const secureEnv = (mechanism: string, extra: Record<string, string> = {}): Record<string, string> =>
    realEnv(topics, {
      INSTANCE_ID: randomName('sasl'),
      KAFKA_BROKERS: secure.brokers.join(','),
      KAFKA_SSL_CA_FILE: secure.caFile,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: secure.username,
      KAFKA_SASL_PASSWORD: secure.password,
      // A new instance's first reply can wait for its inbox topic's metadata to reach every
      // broker (the owner's producer retries meanwhile): slower over TLS on a loaded box.
      REQUEST_TIMEOUT_MS: '20000',
      ...extra,
    });
  const start = async (env: Record<string, string>): Promise<App> => {
    const app = createApp({ config: loadConfig(env), logger: silentLogger() });
    apps.push(app);
    await app.start();
    // Ready as a load balancer sees it: the inbox consumer has joined (a new topic's metadata
    // can lag on some brokers, and the consumer retries until it is there).
    await waitFor('ready', async () => (await fetch(`${app.url()}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
    return app;
  };
  const kafka = (): Kafka =>
    new Kafka({
      clientId: randomName('sasl-test'),
      brokers: secure.brokers,
      ssl: { ca: [readFileSync(secure.caFile, 'utf8')] },
      sasl: { mechanism: 'scram-sha-256', username: secure.username, password: secure.password },
      logLevel: logLevel.NOTHING,
    });

  beforeAll(async () => {
    secure = secureKafka();
    await Promise.all([requirePostgres(), requireRedis()]);
  });
  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop().catch(() => undefined);
  }, 60_000);

  it('logs in, chats and dead-letters a poison record over SCRAM-SHA-512', async () => {
    const app = await start(secureEnv('scram-sha-512'));
    await waitFor('owner joined', () => app.bus.ownerStatus().partitions.length === 3, { timeoutMs: 45_000 });
    const base = app.url();
    const [alice, bob] = [randomName('alice'), randomName('bob')];
    const password = 'correct horse battery staple';
    for (const userId of [alice, bob]) expect((await postJson(`${base}/api/auth/register`, { userId, password })).status).toBe(201);
    const tokens = await Promise.all(
      [alice, bob].map(async (userId) => {
        const login = await postJson<{ token: string }>(`${base}/api/auth/login`, { userId, password });
        expect(login.status).toBe(200);
        return login.body.token;
      }),
    );
    const room = await postJson<{ roomId: string }>(`${base}/api/rooms`, { name: 'over tls', members: [bob] }, tokens[0]);
    expect(room.status).toBe(201);
    const [a, b] = await Promise.all(tokens.map((t, i) => TestClient.connect(base, t, `client-${i}`)));
    try {
      a.send({ type: 'send', roomId: room.body.roomId, clientMsgId: 'm1', text: 'hello over SASL_SSL' });
      await a.waitFor('ack', (f) => f.type === 'ack' && f.clientMsgId === 'm1');
      await b.waitFor('delivery', (f) => f.type === 'message' && f.message.text === 'hello over SASL_SSL');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }

    // A record that fails validation goes to the dead-letter topic, over the same listener.
    const client = kafka();
    const producer = client.producer();
    const consumer = client.consumer({ groupId: randomName('sasl-dlt'), maxWaitTimeInMs: 200 });
    const admin = client.admin();
    try {
      await producer.connect();
      await producer.send({ topic: topics.chat, acks: -1, messages: [{ key: 'mallory', value: '{"v":1,"type":"chat.send"}' }] });
      // The owner creates the dead-letter topic when it first needs it.
      await admin.connect();
      await waitFor('the DLT topic', async () => (await admin.listTopics()).includes(`${topics.chat}.dlt`), {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      await consumer.connect();
      // Listed by one broker is not known to all: KRaft metadata reaches them one by one.
      await subscribeWhenKnown(consumer, `${topics.chat}.dlt`);
      const dead: Record<string, string>[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          dead.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
        },
      });
      await waitFor('the poison record in the DLT', () => dead.length > 0, { timeoutMs: 60_000, intervalMs: 200 });
      expect(dead[0]![Headers.dltOriginalTopic]).toBe(topics.chat);
      expect(dead[0]![Headers.dltErrorCode]).toBe('VALIDATION');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 180_000);

  it.each(['plain', 'scram-sha-256'])(
    'starts and logs in over SASL %s',
    async (mechanism) => {
      const app = await start(secureEnv(mechanism, { ROLES: 'gateway' }));
      const userId = randomName('u');
      expect((await postJson(`${app.url()}/api/auth/register`, { userId, password: 'pw-123456789' })).status).toBe(201);
      // The owner is the first test's instance (same topics and group); the reply comes back over TLS.
      expect((await postJson(`${app.url()}/api/auth/login`, { userId, password: 'pw-123456789' })).status).toBe(200);
    },
    120_000,
  );

  it('wrong credentials fail the start at once with a clear error that does not hold the password', async () => {
    const wrong = 'not-the-password-0123456789';
    const app = createApp({ config: loadConfig(secureEnv('scram-sha-512', { KAFKA_SASL_PASSWORD: wrong })), logger: silentLogger() });
    apps.push(app);
    const started = Date.now();
    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/refused this instance's SASL credentials/);
    expect((error as Error).message).not.toContain(wrong);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('a CA that did not sign the brokers fails the start with a TLS error', async () => {
    const app = createApp({
      config: loadConfig(secureEnv('scram-sha-512', { KAFKA_SSL_CA_FILE: require.resolve('./kafka-sasl-ssl.other-ca.pem') })),
      logger: silentLogger(),
    });
    apps.push(app);
    await expect(app.start()).rejects.toThrow(/TLS handshake with the brokers failed/);
  }, 60_000);
});
