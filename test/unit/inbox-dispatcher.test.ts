import { createInboxDispatcher } from '../../src/gateway/inbox-dispatcher';
import { ConnectionRegistry } from '../../src/gateway/connection-registry';
import type { ClientConnection } from '../../src/gateway/client-connection';
import { ResumeGate } from '../../src/gateway/resume-gate';
import type { RequestReply } from '../../src/gateway/request-reply';
import type { InboundRecord } from '../../src/ports/bus';
import { makeRecord, type InboxRecord } from '../../src/protocol/envelope';
import { CloseCodes } from '../../src/protocol/close-codes';
import type { ServerFrame } from '../../src/protocol/frames';
import { createMetrics } from '../../src/observability/metrics';

/** The last hop of records addressed to an instance: each type to where it belongs. */
function setup() {
  const metrics = createMetrics({ defaultMetrics: false });
  const registry = new ConnectionRegistry(metrics);
  const settled: InboundRecord<InboxRecord>[] = [];
  const requestReply: RequestReply = {
    settle: (r) => settled.push(r) > 0,
    close: () => undefined,
    pendingCount: () => 0,
    request: async () => Promise.reject(new Error('unused')),
  };
  const dispatch = createInboxDispatcher({ registry, requestReply, metrics });
  const frames = new Map<string, ServerFrame[]>();
  const closed = new Map<string, number>();
  const connect = (id: string, jti = 'j1'): void => {
    frames.set(id, []);
    const c: ClientConnection = {
      id,
      userId: 'alice',
      jti,
      kind: 'ws',
      send: (f) => frames.get(id)!.push(f) > 0,
      close: (code) => void closed.set(id, code),
    };
    registry.add(c, new ResumeGate((f) => c.send(f), { gapTimeoutMs: 1_000 }));
  };
  const inbound = (record: InboxRecord): InboundRecord<InboxRecord> => ({
    topic: 'inbox.me',
    partition: 0,
    offset: '0',
    key: 'alice',
    record,
    headers: {},
  });
  return { dispatch, frames, closed, connect, settled, inbound, metrics };
}

describe('inbox dispatcher', () => {
  it('relays frames to the connections named, and counts the ones it does not hold', async () => {
    const { dispatch, frames, connect, inbound, metrics } = setup();
    connect('c1');
    connect('c2');
    await dispatch(inbound(makeRecord('relay', 'alice', { connectionIds: ['c1', 'gone'], frame: { type: 'pong' } })));
    await dispatch(
      inbound(
        makeRecord('relay.batch', 'alice', {
          parts: [
            { connectionIds: ['c2'], frame: { type: 'pong' } },
            { connectionIds: ['c1', 'c2'], frame: { type: 'pong' } },
          ],
        }),
      ),
    );
    expect(frames.get('c1')).toHaveLength(2);
    expect(frames.get('c2')).toHaveLength(2);
    expect((await metrics.relayMisses.get()).values[0]?.value).toBe(1);
  });

  it('hands login replies to the request waiting for them', async () => {
    const { dispatch, settled, inbound } = setup();
    const reply = makeRecord('login.reply', 'alice', { ok: false, code: 'INVALID_CREDENTIALS', message: 'no', handledBy: 'x' });
    await dispatch(inbound(reply));
    expect(settled.map((r) => r.record.id)).toEqual([reply.id]);
  });

  it('broadcasts to every connection, and closes the connections of a revoked token', async () => {
    const { dispatch, frames, closed, connect, inbound } = setup();
    connect('c1', 'j1');
    connect('c2', 'j2');
    await dispatch(inbound(makeRecord('broadcast', 'admin', { frame: { type: 'pong' } })));
    expect([frames.get('c1')!.length, frames.get('c2')!.length]).toEqual([1, 1]);
    await dispatch(inbound(makeRecord('token.revoked', 'alice', { jti: 'j2' })));
    expect([...closed]).toEqual([['c2', CloseCodes.TOKEN_INVALID]]);
  });

  it("closes a socket its owner refused (the per-user cap) with 4008 and the owner's reason", async () => {
    const { dispatch, closed, connect, inbound } = setup();
    connect('c1');
    connect('c2');
    await dispatch(
      inbound(makeRecord('session.refused', 'alice', { connectionId: 'c2', reason: 'CONNECTION_LIMIT: at most 1 connections per user' })),
    );
    await dispatch(inbound(makeRecord('session.refused', 'alice', { connectionId: 'gone', reason: 'CONNECTION_LIMIT: x' })));
    expect([...closed]).toEqual([['c2', CloseCodes.POLICY]]);
  });
});
