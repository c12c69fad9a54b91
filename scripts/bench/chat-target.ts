/**
 * What the benchmark drives: a 3-node chat cluster, ours or the peer, behind one small
 * interface so both get exactly the same workload from the same load generator.
 */

/** What a connection reports back to the load generator. */
export interface ConnectionEvents {
  /** The server accepted (stored, for ours) the message this client sent. */
  onAck(clientMsgId: string): void;
  /** A message from another member arrived on this connection. */
  onMessage(clientMsgId: string): void;
  /** A send was refused; `ref` is its clientMsgId when the server says. */
  onError(code: string, ref: string | undefined): void;
}

export interface BenchConnection {
  send(roomId: string, clientMsgId: string, text: string): void;
  close(): void;
}

export interface ChatTarget {
  readonly name: string;
  /** Starts the nodes (and whatever they need that the benchmark owns). */
  start(): Promise<void>;
  /** Creates users and rooms (each room's members); returns the room ids in the same order. */
  prepare(users: readonly string[], rooms: readonly (readonly string[])[]): Promise<string[]>;
  /** Opens a connection for `userId` on node `node`, resolved once it can send and receive. */
  connect(userId: string, rooms: readonly string[], node: number, events: ConnectionEvents): Promise<BenchConnection>;
  /** The pids of the server processes (for memory and CPU). */
  pids(): number[];
  /** Kafka hops a message crosses from sender to member (ours only): the floor ratio's multiplier. */
  readonly kafkaHops?: number;
  /** Records written so far to this target's Kafka topics (ours only): compare two readings. */
  kafkaRecords?(): Promise<number>;
  /** Kafka fetch requests its consumers had answered so far (ours only, from /metrics): compare two readings. */
  kafkaFetches?(): Promise<number>;
  /**
   * Resolves once the target is in the steady state a measurement should see; called after
   * every client is connected, before the first run. Ours: the session directory trusted
   * (a brand-new or emptied Redis is not, for 2 × SESSION_REANNOUNCE_MS, and every fan-out
   * takes the fallback path through the recipients' owners meanwhile: about 8 Kafka records
   * per message in rooms of 5 instead of 3). `say` tells why it waits.
   */
  settle?(say: (line: string) => void): Promise<void>;
  /** Fan-outs that took the fallback path through the recipients' owners so far (ours only): compare two readings. */
  fallbackFanOuts?(): Promise<number>;
  stop(): Promise<void>;
}

/** Events that ignore everything: idle connections. */
export const ignoreEvents: ConnectionEvents = { onAck: () => undefined, onMessage: () => undefined, onError: () => undefined };

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
