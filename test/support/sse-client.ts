import http from 'node:http';
import type { ServerFrame } from '../../src/protocol/frames';

/** Reads the server's Server-Sent Events stream (GET /api/stream) into frames, for tests. */
export function openStream(url: string, token: string): { frames: ServerFrame[]; close: () => void } {
  const frames: ServerFrame[] = [];
  const req = http.get(`${url}/api/stream?token=${encodeURIComponent(token)}`, (res) => {
    let buffer = '';
    res.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').find((l) => l.startsWith('data: '));
        if (data !== undefined && !event.startsWith('event: close')) frames.push(JSON.parse(data.slice(6)) as ServerFrame);
      }
    });
  });
  req.on('error', () => undefined);
  return { frames, close: () => req.destroy() };
}
