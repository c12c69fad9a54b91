import { Socket, connect, createServer, type Server } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory that routes every broker connection through a local TCP relay
 * which lets Kafka's frames pass, except that it swallows the first `dropProduces`
 * successful responses to Produce requests (API key 0). The broker has written those
 * batches; the client never hears so, times the request out and sends the batch again:
 * the situation an idempotent producer exists for. A Produce answered with an error
 * (a busy cluster: NOT_ENOUGH_REPLICAS, a leader moving) wrote nothing, so it passes and
 * the next Produce is the one swallowed: losing it would prove nothing.
 *
 * Frames are read by Kafka's own framing: a request is [int32 size][int16 apiKey]
 * [int16 apiVersion][int32 correlationId]…, a response [int32 size][int32 correlationId]….
 * A Produce response up to v8 (kafkajs sends ≤ v7) then holds [int32 topics][int16 name
 * length][name][int32 partitions][int32 partition][int16 error code]….
 */
export interface ProduceResponseDropper {
  readonly socketFactory: ISocketFactory;
  /** Produce responses swallowed so far. */
  dropped(): number;
  /** Error codes of the Produce responses that were to be swallowed but carried an error (let through). */
  errorsLetThrough(): number[];
  close(): Promise<void>;
}

const PRODUCE = 0;
/** The first flexible Produce version, whose response layout differs (never sent by kafkajs). */
const PRODUCE_FLEXIBLE = 9;

/** The error code of the first partition in a Produce response (≤ v8). */
function produceErrorCode(frame: Buffer): number {
  const nameLength = frame.readInt16BE(12);
  return frame.readInt16BE(14 + nameLength + 4 + 4);
}

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
  // Produce requests picked to lose their answer, not yet answered (over every connection).
  let picked = 0;
  const errorsLetThrough: number[] = [];
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
            // A flexible version's answer is laid out otherwise: never picked (so the test's
            // dropped() count stays 0 and says so).
            else if (dropped + picked < dropProduces && frame.readInt16BE(6) < PRODUCE_FLEXIBLE) {
              toDrop.add(frame.readInt32BE(8));
              picked++;
            }
          }
          broker.write(frame);
        }),
      );
      broker.on(
        'data',
        framer((frame) => {
          const correlationId = frame.readInt32BE(4);
          if (toDrop.delete(correlationId)) {
            picked--;
            const errorCode = produceErrorCode(frame);
            if (errorCode === 0) {
              dropped++;
              return;
            }
            errorsLetThrough.push(errorCode);
          }
          client.write(frame);
        }),
      );
      client.on('close', () => {
        // Picked requests this connection never got an answer to: no longer pending.
        picked -= toDrop.size;
        toDrop.clear();
        broker.destroy();
      });
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
    errorsLetThrough: () => [...errorsLetThrough],
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
