import type { App } from '../../src/app';
import { startMemoryApp } from '../support/apps';
import { expectNothingLostOrDoubled, runCutBurst } from '../support/client-cut-burst';
import { connectUser, type ClientUser } from '../support/client-harness';
import { hostPort, startCutProxy, type CutProxy } from '../support/cut-proxy';
import { randomName } from '../support/infra';

/**
 * The client library against the real server (the embedded default: in-memory bus,
 * embedded PostgreSQL), its sockets through a proxy whose network is cut (reset, or
 * silently frozen) twice mid-burst of sends. What must hold: every send resolves once with a stored message; the room holds
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

  /** Three users in one room, connected through the proxy; set up straight to the server. */
  async function roomOfThree(
    connection: { pingIntervalMs?: number } = {},
  ): Promise<{ roomId: string; members: ClientUser[]; direct: ClientUser['client']['api'] }> {
    const names = ['alice', 'bob', 'carol'].map((n) => randomName(n).slice(0, 40));
    const setup = await Promise.all(names.map((userId) => connectUser({ baseUrl: app.url(), userId })));
    const room = await setup[0]!.client.api.createRoom({ name: 'cut', members: names.slice(1) });
    for (const u of setup) u.connection.close();
    const members: ClientUser[] = [];
    for (const userId of names) {
      members.push(
        await connectUser({
          baseUrl: proxy.url,
          userId,
          connection: { rooms: { [room.roomId]: 0 }, backoff: { minDelayMs: 100, maxDelayMs: 1_000 }, ...connection },
        }),
      );
    }
    users.push(...members);
    // The set-up clients reach the server directly: the history is read through one of them.
    return { roomId: room.roomId, members, direct: setup[0]!.client.api };
  }

  it('connections reset: every send resolves once, every member sees every message once, in order', async () => {
    const { roomId, members, direct } = await roomOfThree();
    const report = await runCutBurst({ users: members, roomId, perUser: 40, proxy, history: direct });
    expectNothingLostOrDoubled(report, members);
  });

  it('a silent network (no close ever arrives): the keep-alive notices, and the same holds', async () => {
    const { roomId, members, direct } = await roomOfThree({ pingIntervalMs: 500 });
    const report = await runCutBurst({ users: members, roomId, perUser: 30, proxy, how: 'freeze', history: direct });
    expectNothingLostOrDoubled(report, members);
  });
});
