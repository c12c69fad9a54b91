import request from 'supertest';
import type { App } from '../../src/app';
import { partitionForKey } from '../../src/domain/partitioner';
import { MemoryBroker } from '../../src/adapters/memory/memory-broker';
import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { randomName, waitFor } from '../support/infra';
import { startMemoryApp } from '../support/apps';
import { TestClient } from '../support/ws-client';

/**
 * Gateways re-announce their live sessions, so the owner's entry stays fresh and a lost
 * event heals. (Expiry of sessions nobody announces any more: test/unit/owned-users.test.ts.)
 */
describe('session re-announce and expiry (in-memory cluster)', () => {
  const env = { SESSION_REANNOUNCE_MS: '150', SESSION_TTL_MS: '600' };
  const apps: App[] = [];
  afterAll(async () => {
    for (const a of apps) await a.stop();
  });

  it('refreshes a live session at the owner and heals a forgotten one', async () => {
    const broker = new MemoryBroker(12);
    const store = createMemoryChatStore();
    const app = await startMemoryApp({ env, memoryBroker: broker, store });
    apps.push(app);
    const userId = randomName('u');
    await request(app.http).post('/api/auth/register').send({ userId, password: 'password123' }).expect(201);
    const { body } = await request(app.http).post('/api/auth/login').send({ userId, password: 'password123' }).expect(200);
    const client = await TestClient.connect(app.url(), body.token as string, 'c');
    const partition = partitionForKey(userId, 12);
    const session = () => app.owner!.users.get(partition, userId)?.sessions.values().next().value;
    const first = session()!.seenAt;
    await waitFor('a re-announce refreshes seenAt', () => (session()?.seenAt ?? 0) > first, { timeoutMs: 5_000 });

    // The owner loses the session (as if the open event had been lost): the next re-announce heals it.
    app.owner!.users.get(partition, userId)!.sessions.clear();
    await waitFor('the session is back', () => session() !== undefined, { timeoutMs: 5_000 });

    await client.close();
  });
});
