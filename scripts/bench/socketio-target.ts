import { randomBytes } from 'node:crypto';
import { io as connectSocket } from 'socket.io-client';
import { createTokenService } from '../../src/auth/token-service';
import type { BenchConnection, ChatTarget, ConnectionEvents } from './chat-target';
import { startNode, type NodeProcess } from './node-process';

const ISSUER = 'socketio-bench';
const AUDIENCE = 'socketio-bench-clients';

/**
 * The peer: N Socket.IO nodes (scripts/bench/socketio-node.ts) joined by
 * `@socket.io/redis-adapter` on the same Redis as ours. Users and rooms need no setup: a
 * client names its rooms in the handshake, as such apps usually load them from a cache.
 */
export function createSocketIoTarget({ redisUrl, nodes = 3 }: { redisUrl: string; nodes?: number }): ChatTarget {
  const channel = `bench-sio-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const secret = randomBytes(32).toString('hex');
  const tokens = createTokenService({ secret, issuer: ISSUER, audience: AUDIENCE });
  let procs: NodeProcess[] = [];

  return {
    name: 'socket.io',
    async start() {
      procs = await Promise.all(
        Array.from({ length: nodes }, (_, i) =>
          startNode({
            name: `socket.io-${i + 1}`,
            script: 'scripts/bench/socketio-node.ts',
            env: {
              NODE_ENV: 'production',
              REDIS_URL: redisUrl,
              JWT_SECRET: secret,
              JWT_ISSUER: ISSUER,
              JWT_AUDIENCE: AUDIENCE,
              CHANNEL: channel,
            },
            // Listening is enough: any HTTP answer (Engine.IO refuses polling here with 400) will do.
            ready: async (port) => {
              await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
              return true;
            },
          }),
        ),
      );
    },
    async prepare(_users, rooms) {
      return rooms.map((_, i) => `${channel}-room-${i}`);
    },
    async connect(userId, rooms, node, events: ConnectionEvents): Promise<BenchConnection> {
      const socket = connectSocket(`http://127.0.0.1:${procs[node % procs.length]!.port}`, {
        transports: ['websocket'],
        auth: { token: tokens.issue(userId).token, rooms },
        reconnection: false,
        forceNew: true,
      });
      socket.on('message', (message: { clientMsgId: string; senderId: string }) => {
        if (message.senderId !== userId) events.onMessage(message.clientMsgId);
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${userId}: not connected within 60 s`)), 60_000);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('connect_error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      return {
        send: (roomId, clientMsgId, text) =>
          socket.emit('send', { roomId, clientMsgId, text }, (reply: { error?: string }) => {
            if (reply.error === undefined) events.onAck(clientMsgId);
            else events.onError(reply.error, clientMsgId);
          }),
        close: () => socket.disconnect(),
      };
    },
    pids: () => procs.map((p) => p.child.pid!),
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
      procs = [];
    },
  };
}
