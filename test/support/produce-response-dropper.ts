import { Socket, connect, createServer, type Server } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory that routes every broker connection through a local TCP relay
 * which lets Kafka's frames pass, except that it swallows the responses to the first
 * `dropProduces` Produce requests (API key 0). The broker has written those batches; the
 * client never hears so, times the request out and sends the batch again: the situation
 * an idempotent producer exists for.
 *
 * Frames are read by Kafka's own framing: a request is [int32 size][int16 apiKey]
 * [int16 apiVersion][int32 correlationId]…, a response [int32 size][int32 correlationId]….
 */
export interface ProduceResponseDropper {
  readonly socketFactory: ISocketFactory;
  /** Produce responses swallowed so far. */
  dropped(): number;
  close(): Promise<void>;
}

const PRODUCE = 0;

/** Splits a byte stream into whole Kafka frames (size-prefixed), keeping the remainder. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) return;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

export function createProduceResponseDropper({
  passProduces = 1,
  dropProduces = 1,
}: {
  /**
   * Produce requests let through first. Default 1: on a topic made a moment ago the first
   * produce may come back with a retriable error (leadership still settling), and losing
   * that answer would prove nothing; after one success the next is a clean write.
   */
  passProduces?: number;
  /** Produce responses to swallow after those. Default 1. */
  dropProduces?: number;
} = {}): ProduceResponseDropper {
  let dropped = 0;
  let passed = 0;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };

  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    // A relay of its own per connection: it knows which of its requests were Produce.
    const toDrop = new Set<number>();
    const server = createServer((client) => {
      track(client);
      const broker = track(connect(port, host));
      client.on(
        'data',
        framer((frame) => {
          if (frame.readInt16BE(4) === PRODUCE) {
            if (passed < passProduces) passed++;
            else if (dropped + toDrop.size < dropProduces) toDrop.add(frame.readInt32BE(8));
          }
          broker.write(frame);
        }),
      );
      broker.on(
        'data',
        framer((frame) => {
          const correlationId = frame.readInt32BE(4);
          if (toDrop.delete(correlationId)) {
            dropped++;
            return;
          }
          client.write(frame);
        }),
      );
      client.on('close', () => broker.destroy());
      broker.on('close', () => client.destroy());
    });
    servers.push(server);
    const socket = track(new Socket());
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('relay has no port');
      socket.connect(address.port, '127.0.0.1', onConnect);
    });
    socket.setKeepAlive(true, 60_000);
    return socket;
  };

  return {
    socketFactory,
    dropped: () => dropped,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
