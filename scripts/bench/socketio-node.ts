/**
 * The benchmark's peer: one node of a plain Socket.IO chat cluster, the way most teams
 * build one — `@socket.io/redis-adapter` fans room broadcasts out to the other nodes over
 * Redis pub/sub. It does what our gateway does per frame that matters for the comparison
 * (verify the JWT at the handshake, check the sender is in the room, stamp the message,
 * ack the sender, emit to the room's other members) and nothing it does not: no storage,
 * no sequence numbers, no resume, no delivery once a socket is gone.
 *
 * Run by scripts/bench (never by the product): PORT, REDIS_URL, JWT_SECRET, JWT_ISSUER,
 * JWT_AUDIENCE and CHANNEL (the adapter's key prefix, per run) come from the environment.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { isSendFrame, requiredEnv, stampedMessage, tokenVerifier } from './peer-checks';

const port = Number(requiredEnv('PORT'));
const verify = tokenVerifier();
const pub = new Redis(requiredEnv('REDIS_URL'));
const sub = pub.duplicate();

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
  adapter: createAdapter(pub, sub, { key: requiredEnv('CHANNEL') }),
});

// Same check as ours: HS256 only, issuer and audience; the rooms a user is in come with the handshake.
io.use((socket, next) => {
  try {
    socket.data = { userId: verify(String((socket.handshake.auth as Record<string, unknown>)['token'] ?? '')) };
    next();
  } catch {
    next(new Error('UNAUTHORIZED'));
  }
});

io.on('connection', (socket) => {
  const userId = (socket.data as { userId: string }).userId;
  const rooms = (socket.handshake.auth as Record<string, unknown>)['rooms'];
  if (Array.isArray(rooms)) void socket.join(rooms.filter((r): r is string => typeof r === 'string').map((r) => `room:${r}`));
  socket.on('send', (frame: unknown, ack?: (reply: unknown) => void) => {
    if (!isSendFrame(frame) || !socket.rooms.has(`room:${frame.roomId}`)) {
      ack?.({ error: 'VALIDATION' });
      return;
    }
    const message = stampedMessage(frame, userId);
    socket.to(`room:${frame.roomId}`).emit('message', message);
    ack?.({ message });
  });
});

http.listen(port, '127.0.0.1', () => process.stdout.write(`socket.io node on ${port}\n`));
const stop = (): void => {
  void io.close(() => {
    pub.disconnect();
    sub.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
