import { createMemoryBus } from '../../src/adapters/memory/memory-bus';
import { createMemoryChatStore } from '../../src/adapters/memory/memory-chat-store';
import { createPasswordHasher } from '../../src/auth/password-hasher';
import { createPasswordSealer } from '../../src/auth/password-sealer';
import { OwnedUsers } from '../../src/domain/owned-users';
import { createMetrics } from '../../src/observability/metrics';
import { createAppendBatcher } from '../../src/owner/append-batcher';
import type { OwnerContext } from '../../src/owner/owner-context';
import { createSessionDirectory } from '../../src/owner/session-directory';
import type { SessionMirror } from '../../src/ports/session-mirror';
import { silentLogger } from './infra';

export const OWNER_TEST_TOPICS = {
  login: 'login',
  chat: 'chat',
  inboxPrefix: 'inbox',
  ownerGroup: 'owners',
  broadcast: 'broadcast',
  partitions: 4,
};
const hasher = createPasswordHasher({ cost: 4 });

/**
 * An owner's handler context on in-memory parts (bus, store), for unit tests of owner code:
 * instance `i1`, a session TTL of 60 s, the given mirror and clock; `publish` drops output.
 */
export function ownerContextFor({
  mirror,
  now,
  eagerLoadTimeoutMs = 0,
  maxSessionsPerUser = 20,
}: {
  mirror: SessionMirror;
  now: number;
  eagerLoadTimeoutMs?: number;
  maxSessionsPerUser?: number;
}): OwnerContext {
  const logger = silentLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const store = createMemoryChatStore();
  return {
    instanceId: 'i1',
    bus: createMemoryBus({ instanceId: 'i1', topics: OWNER_TEST_TOPICS, logger, metrics }),
    store,
    appends: createAppendBatcher({ store }),
    mirror,
    directory: createSessionDirectory({ mirror }),
    hasher,
    sealer: createPasswordSealer({ secret: 'x'.repeat(32) }),
    users: new OwnedUsers(),
    chatTopic: OWNER_TEST_TOPICS.chat,
    limits: {
      sendRatePerSec: 10,
      sendBurst: 30,
      sessionTtlMs: 60_000,
      maxSessionsPerUser,
      presenceSnapshotMaxUsers: 1_000,
      receiptsMaxRoomMembers: 50,
    },
    eagerLoadTimeoutMs,
    logger,
    metrics,
    now: () => now,
    publish: () => undefined,
  };
}
