import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { createTokenService } from '../../src/auth/token-service';
import type { BenchConnection, ChatTarget, ConnectionEvents } from './chat-target';
import { startNode, type NodeProcess } from './node-process';

const ISSUER = 'ws-relay-bench';
const AUDIENCE = 'ws-relay-bench-clients';

/**
 * The WebSocket floor (scripts/bench/ws-relay-node.ts): one plain `ws` process holding every
 * client, so a delivery costs its WebSocket work only. Not a chat cluster: it stands beside
 * the kafkajs path as the other part of what a delivery of ours cannot cost less than.
 * Rooms need no setup: a client names its rooms when it connects.
 */
export function createWsRelayTarget(): ChatTarget {
  const secret = randomBytes(32).toString('hex');
  const tokens = createTokenService({ secret, issuer: ISSUER, audience: AUDIENCE });
  const prefix = `ws-relay-${randomBytes(3).toString('hex')}`;
  let proc: NodeProcess | undefined;

  return {
    name: 'ws-relay',
    async start() {
      proc = await startNode({
        name: 'ws-relay',
        script: 'scripts/bench/ws-relay-node.ts',
        env: { NODE_ENV: 'production', JWT_SECRET: secret, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
        ready: async (port) => (await fetch(`http://127.0.0.1:${port}/`)).ok,
      });
    },
    async prepare(_users, rooms) {
      return rooms.map((_, i) => `${prefix}-room-${i}`);
    },
    async connect(userId, rooms, _node, events: ConnectionEvents): Promise<BenchConnection> {
      const query = new URLSearchParams({ token: tokens.issue(userId).token, rooms: rooms.join(',') });
      const ws = new WebSocket(`ws://127.0.0.1:${proc!.port}/?${query.toString()}`, { perMessageDeflate: false });
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as
          | { type: 'ack'; clientMsgId: string }
          | { type: 'message'; message: { clientMsgId: string } }
          | { type: 'error'; clientMsgId?: string; code: string };
        if (frame.type === 'ack') events.onAck(frame.clientMsgId);
        else if (frame.type === 'message') events.onMessage(frame.message.clientMsgId);
        else events.onError(frame.code, frame.clientMsgId);
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return {
        send: (roomId, clientMsgId, text) => ws.send(JSON.stringify({ roomId, clientMsgId, text })),
        close: () => ws.close(),
      };
    },
    pids: () => (proc === undefined ? [] : [proc.child.pid!]),
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
  };
}
