import { Writable } from 'node:stream';
import { createTurnWrites } from '../../src/gateway/ws/turn-writes';

/** A socket stand-in that records each write that reaches it: one entry per system call. */
function recordingSocket(): { socket: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, done) {
      calls.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      calls.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  });
  return { socket, calls };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createTurnWrites', () => {
  it('sends what one turn wrote in one write, in order', async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket);
    for (const frame of ['a', 'b', 'c']) {
      turn.hold();
      socket.write(frame);
    }
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(socket.writableCorked).toBe(0);
  });

  it('holds across the promise jobs of the turn (a batch handed out with awaits between records)', async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket);
    const send = (frame: string): void => {
      turn.hold();
      socket.write(frame);
    };
    await Promise.resolve().then(async () => {
      send('a');
      await Promise.resolve();
      send('b');
      await null;
      send('c');
    });
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('writes each turn on its own: nothing waits past the turn it was sent in', async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket);
    turn.hold();
    socket.write('a');
    await nextTurn();
    expect(calls).toEqual([['a']]);
    turn.hold();
    socket.write('b');
    turn.hold();
    socket.write('c');
    await nextTurn();
    expect(calls).toEqual([['a'], ['b', 'c']]);
  });

  it("nests ws's own cork around a frame's header and body", async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket);
    for (const frame of ['1', '2']) {
      turn.hold();
      // What ws's Sender does for a frame in two parts.
      socket.cork();
      socket.write(`h${frame}`);
      socket.write(`b${frame}`);
      socket.uncork();
    }
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['h1', 'b1', 'h2', 'b2']]);
  });

  it('does not uncork a socket whose corks were released meanwhile (ended)', async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket);
    turn.hold();
    socket.write('a');
    // end() releases every cork and flushes.
    socket.end('z');
    await nextTurn();
    expect(calls.flat()).toEqual(['a', 'z']);
    expect(socket.writableCorked).toBe(0);
  });

  it('lets a long turn out in pieces of about flushAtBytes, so the slow-client check sees no more held than that', async () => {
    const { socket, calls } = recordingSocket();
    const turn = createTurnWrites(socket, { flushAtBytes: 10 });
    const held: number[] = [];
    for (const frame of ['a1____', 'a2____', 'a3____', 'a4____', 'a5____']) {
      turn.hold();
      socket.write(frame);
      held.push(socket.writableLength);
    }
    expect(Math.max(...held)).toBeLessThan(10 + 6);
    await nextTurn();
    expect(calls).toEqual([['a1____', 'a2____'], ['a3____', 'a4____'], ['a5____']]);
    expect(socket.writableCorked).toBe(0);
  });
});
