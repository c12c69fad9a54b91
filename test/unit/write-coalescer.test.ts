import { Writable } from 'node:stream';
import { createWriteCoalescer } from '../../src/gateway/ws/write-coalescer';

/** A writable that records each system-call-like write it is asked for: one entry per _write or _writev. */
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

describe('write coalescer', () => {
  it('sends the writes of one turn as one writev, in order', async () => {
    const { socket, calls } = recordingSocket();
    const writes = createWriteCoalescer(socket);
    for (const frame of ['a', 'b', 'c']) {
      writes.hold();
      socket.write(frame);
    }
    expect(calls).toEqual([]);
    await nextTurn();
    await nextTurn();
    expect(calls).toEqual([['a', 'b', 'c']]);
  });

  it('holds each turn apart: a write of the next turn is not kept waiting for a later one', async () => {
    const { socket, calls } = recordingSocket();
    const writes = createWriteCoalescer(socket);
    writes.hold();
    socket.write('first');
    await nextTurn();
    await nextTurn();
    writes.hold();
    socket.write('second');
    await nextTurn();
    await nextTurn();
    expect(calls).toEqual([['first'], ['second']]);
  });

  it('nests with a writer that corks on its own (ws corks a frame header with its payload)', async () => {
    const { socket, calls } = recordingSocket();
    const writes = createWriteCoalescer(socket);
    for (const frame of ['1', '2']) {
      writes.hold();
      socket.cork();
      socket.write(`h${frame}`);
      socket.write(`p${frame}`);
      socket.uncork();
    }
    await nextTurn();
    await nextTurn();
    expect(calls).toEqual([['h1', 'p1', 'h2', 'p2']]);
  });

  it('corks once per turn, however many writes', () => {
    let corks = 0;
    let uncorks = 0;
    const deferred: (() => void)[] = [];
    const writes = createWriteCoalescer({ cork: () => corks++, uncork: () => uncorks++ }, (release) => deferred.push(release));
    writes.hold();
    writes.hold();
    writes.hold();
    expect([corks, uncorks, deferred.length]).toEqual([1, 0, 1]);
    deferred.shift()!();
    writes.hold();
    expect([corks, uncorks, deferred.length]).toEqual([2, 1, 1]);
  });
});
