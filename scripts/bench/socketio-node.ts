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
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};
const port = Number(env('PORT'));
const secret = env('JWT_SECRET');
const issuer = env('JWT_ISSUER');
const audience = env('JWT_AUDIENCE');
const pub = new Redis(env('REDIS_URL'));
const sub = pub.duplicate();

const MAX_TEXT = 4_000;
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
  adapter: createAdapter(pub, sub, { key: env('CHANNEL') }),
});

interface SendFrame {
  roomId: string;
  clientMsgId: string;
  text: string;
}
const isSend = (v: unknown): v is SendFrame =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SendFrame).roomId === 'string' &&
  typeof (v as SendFrame).clientMsgId === 'string' &&
  typeof (v as SendFrame).text === 'string' &&
  (v as SendFrame).text.length <= MAX_TEXT;

// Same check as ours: HS256 only, issuer and audience; the rooms a user is in come with the handshake.
io.use((socket, next) => {
  try {
    const token = String((socket.handshake.auth as Record<string, unknown>)['token'] ?? '');
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer, audience });
    if (typeof claims === 'string' || typeof claims.sub !== 'string') throw new Error('no subject');
    socket.data = { userId: claims.sub };
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
    if (!isSend(frame) || !socket.rooms.has(`room:${frame.roomId}`)) {
      ack?.({ error: 'VALIDATION' });
      return;
    }
    const message = {
      id: randomUUID(),
      roomId: frame.roomId,
      senderId: userId,
      text: frame.text,
      ts: Date.now(),
      clientMsgId: frame.clientMsgId,
    };
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
