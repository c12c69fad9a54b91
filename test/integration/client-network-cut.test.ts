import type { App } from '../../src/app';
import type { Message } from '../../client/src/protocol';
import { startMemoryApp } from '../support/apps';
import { connectUser, type ClientUser } from '../support/client-harness';
import { hostPort, startCutProxy, type CutProxy } from '../support/cut-proxy';
import { randomName, waitFor } from '../support/infra';

/**
 * The client library against the real server (the embedded default: in-memory bus,
 * embedded PostgreSQL), its sockets through a proxy whose network is cut mid-burst of
 * sends. What must hold: every send resolves once with a stored message; the room holds
 * each send once; every member's connection delivers every message once, in seq order.
 */
describe('client library: network cut mid-burst (embedded default)', () => {
  let app: App;
  let proxy: CutProxy;
  const users: ClientUser[] = [];

  beforeAll(async () => {
    app = await startMemoryApp();
    proxy = await startCutProxy({ targets: [hostPort(app.url())] });
  });
  afterAll(async () => {
    for (const u of users) u.connection.close();
    await proxy?.close();
    await app?.stop();
  });

  it('every send resolves once, every member sees every message once, in order', async () => {
    const names = ['alice', 'bob', 'carol'].map((n) => randomName(n).slice(0, 40));
    // REST straight to the server; the sockets through the proxy.
    const setup = await Promise.all(names.map((userId) => connectUser({ baseUrl: app.url(), userId })));
    const room = await setup[0]!.client.api.createRoom({ name: 'cut', members: names.slice(1) });
    for (const u of setup) u.connection.close();
    for (const userId of names) {
      users.push(await connectUser({ baseUrl: proxy.url, userId, connection: { rooms: { [room.roomId]: 0 }, backoff: { minDelayMs: 100, maxDelayMs: 1_000 } } }));
    }

    const PER_USER = 40;
    let settled = 0;
    const failures: unknown[] = [];
    const sends = users.flatMap((u) =>
      Array.from({ length: PER_USER }, (_, i) =>
        u.connection.send(room.roomId, `${u.userId} ${i}`).then(
          (m) => {
            settled++;
            return m;
          },
          (error: unknown) => {
            settled++;
            failures.push(error);
            return undefined;
          },
        ),
      ),
    );
    // Cut the network once some sends are acked and many are not, then again a little later.
    await waitFor('some acks', () => settled >= 10, { timeoutMs: 20_000, intervalMs: 5 });
    const pendingAtCut = users.reduce((n, u) => n + u.connection.pendingSends(), 0);
    expect(proxy.cut()).toBeGreaterThanOrEqual(users.length);
    await waitFor('all reconnected', () => users.every((u) => u.connection.state() === 'open'), { timeoutMs: 20_000, intervalMs: 10 });
    await waitFor('more acks', () => settled >= 50, { timeoutMs: 20_000, intervalMs: 5 });
    proxy.cut();

    const outcomes = await Promise.race([
      Promise.all(sends),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`sends unsettled: ${settled}/${sends.length}`)), 60_000).unref()),
    ]);
    const total = users.length * PER_USER;
    expect(failures).toEqual([]);
    const stored = outcomes.filter((m): m is Message => m !== undefined);
    expect(pendingAtCut).toBeGreaterThan(0);
    expect(settled).toBe(total);
    expect(new Set(stored.map((m) => m.id)).size).toBe(total);
    expect(stored.map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const u of users) expect(u.states.some((s) => s.state === 'reconnecting')).toBe(true);

    // Every member: each message once, seq 1..total in order (its own sends included).
    await waitFor('every member has every message', () => users.every((u) => u.delivered.length >= total), { timeoutMs: 30_000, intervalMs: 20 }).catch(() => undefined);
    for (const u of users) {
      expect({ user: u.userId, seqs: u.delivered.map((m) => m.seq) }).toEqual({ user: u.userId, seqs: Array.from({ length: total }, (_, i) => i + 1) });
      expect(new Set(u.delivered.map((m) => m.id)).size).toBe(total);
    }

    // And the room holds each send once.
    const history: Message[] = [];
    for (let after = 0; ; ) {
      const page = await users[0]!.client.api.history(room.roomId, { afterSeq: after, limit: 200 });
      if (page.length === 0) break;
      history.push(...page);
      after = page[page.length - 1]!.seq;
    }
    expect(history).toHaveLength(total);
    expect(new Set(history.map((m) => `${m.senderId}/${m.clientMsgId}`)).size).toBe(total);
  });
});
