import { createMemorySessionMirror } from '../../src/adapters/memory/memory-session-mirror';
import { handleSession } from '../../src/owner/session-handler';
import type { OutboundRecord } from '../../src/ports/bus';
import { makeRecord, type RecordOf } from '../../src/protocol/envelope';
import { ownerContextFor } from '../support/owner-context';

/** The per-user socket cap, kept by the user's owner, which sees the sockets of every instance. */
const T0 = 1_900_000_000_000;

function setup(cap: number) {
  const published: OutboundRecord[] = [];
  const mirror = createMemorySessionMirror({ ttlMs: 60_000, now: () => T0 });
  const ctx = {
    ...ownerContextFor({ mirror, now: T0, maxSessionsPerUser: cap }),
    publish: (out: readonly OutboundRecord[] | Promise<readonly OutboundRecord[]>) =>
      void Promise.resolve(out).then((o) => published.push(...o)),
  };
  ctx.users.own([0]);
  const open = async (connectionId: string, instanceId: string, reannounce = false): Promise<void> => {
    const record: RecordOf<'session.opened'> = makeRecord(
      'session.opened',
      'alice',
      {
        instanceId,
        connectionId,
        ...(reannounce ? { reannounce } : {}),
      },
      () => T0,
    );
    await handleSession(ctx, { topic: 'chat', partition: 0, offset: '0', key: 'alice', record, headers: {} }, record);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { ctx, open, published, mirror };
}

describe('per-user socket cap at the owner', () => {
  it('answers ready up to the cap, then refuses the next socket on whichever instance it is', async () => {
    const { open, published } = setup(2);
    await open('c1', 'gw-1');
    await open('c2', 'gw-2');
    await open('c3', 'gw-3');
    const readies = published.filter((r) => r.record.type === 'relay' && r.record.payload.frame.type === 'ready');
    expect(readies.map((r) => r.topic)).toEqual(['inbox.gw-1', 'inbox.gw-2']);
    const refused = published.filter((r) => r.record.type === 'session.refused');
    expect(refused.map((r) => r.topic)).toEqual(['inbox.gw-3']);
    expect(refused[0]!.record).toMatchObject({
      payload: { connectionId: 'c3', reason: expect.stringMatching(/^CONNECTION_LIMIT: at most 2 /) },
    });
  });

  it('never records a refused socket, so the ones open stay as they were', async () => {
    const { ctx, open, mirror } = setup(1);
    await open('c1', 'gw-1');
    await open('c2', 'gw-1');
    expect([...ctx.users.get(0, 'alice')!.sessions.keys()]).toEqual(['c1']);
    expect((await mirror.lookup(['alice'])).get('alice')?.map((s) => s.connectionId)).toEqual(['c1']);
  });

  it('a re-announce of a socket it already holds is never refused', async () => {
    const { open, published } = setup(1);
    await open('c1', 'gw-1');
    await open('c1', 'gw-1', true);
    expect(published.some((r) => r.record.type === 'session.refused')).toBe(false);
  });
});
