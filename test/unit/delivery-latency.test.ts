import { ConnectionRegistry } from '../../src/gateway/connection-registry';
import { createConnectionLifecycle } from '../../src/gateway/connection-lifecycle';
import type { ClientConnection } from '../../src/gateway/client-connection';
import type { SessionAnnouncer } from '../../src/gateway/session-announcer';
import { createMetrics } from '../../src/observability/metrics';
import type { ServerFrame } from '../../src/protocol/frames';
import type { Message } from '../../src/protocol/message';
import { silentLogger } from '../support/infra';

/**
 * chat_send_deliver_seconds: observed when a live `message` frame leaves the gateway on a
 * connection (now − the message's ts), and never for history sent to serve a resume.
 */
describe('send→deliver latency', () => {
  const NOW = Date.parse('2026-01-01T12:00:00.000Z');
  const message = (seq: number, ageMs: number): Message => ({
    id: `m${seq}`,
    roomId: 'r',
    seq,
    senderId: 'alice',
    text: `t${seq}`,
    ts: new Date(NOW - ageMs).toISOString(),
    clientMsgId: `c${seq}`,
  });

  const setUp = () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const announcer: SessionAnnouncer = {
      opened: async () => undefined,
      closed: async () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
    };
    const lifecycle = createConnectionLifecycle({
      registry: new ConnectionRegistry(metrics),
      announcer,
      metrics,
      now: () => NOW,
      logger: silentLogger(),
    });
    const sent: ServerFrame[] = [];
    const connection: ClientConnection = {
      id: 'c1',
      userId: 'bob',
      kind: 'ws',
      jti: 'j',
      send: (f) => sent.push(f) > 0,
      close: () => undefined,
    };
    const opened = lifecycle.open(connection, { userId: 'bob', jti: 'j', exp: NOW / 1000 + 3600 });
    const observed = async () => {
      const values = (await metrics.deliveryLatency.get()).values;
      return {
        count: values.find((v) => v.metricName === 'chat_send_deliver_seconds_count')?.value ?? 0,
        sum: values.find((v) => v.metricName === 'chat_send_deliver_seconds_sum')?.value ?? 0,
      };
    };
    return { opened, sent, observed };
  };

  it('observes a live message frame as now − ts', async () => {
    const { opened, sent, observed } = setUp();
    opened.gate.push({ type: 'message', message: message(1, 120) });
    expect(sent.map((f) => f.type)).toEqual(['message']);
    expect(await observed()).toEqual({ count: 1, sum: 0.12 });
    opened.closed();
  });

  it('leaves out resume history, and counts live messages held during the resume', async () => {
    const { opened, sent, observed } = setUp();
    await opened.gate.resume({ r: 0 }, async () => {
      // Arrives live while the history is read: held, then released after it.
      opened.gate.push({ type: 'message', message: message(3, 50) });
      return [[message(1, 3_600_000), message(2, 1_800_000)]];
    });
    expect(sent.map((f) => (f.type === 'message' ? f.message.seq : f.type))).toEqual([1, 2, 3]);
    expect(await observed()).toEqual({ count: 1, sum: 0.05 });
    opened.closed();
  });
});
