import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createLoadBalancer } from '../../scripts/cluster/load-balancer';
import { freePort } from '../support/processes';

/** The cluster command's balancer: round robin over live backends, HTTP and WebSocket. */
describe('local load balancer', () => {
  const servers: Server[] = [];
  const listen = (server: Server, port = 0): Promise<number> =>
    new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  const backend = async (name: string): Promise<number> => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(JSON.stringify({ name, method: req.method, url: req.url, body })));
    });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${name}:${m.toString()}`)));
    servers.push(server);
    return listen(server);
  };

  it('spreads HTTP requests round robin and passes method, path and body', async () => {
    const ports = [await backend('a'), await backend('b'), await backend('c')];
    const lb = createLoadBalancer({ backends: ports.map((port) => ({ host: '127.0.0.1', port })) });
    servers.push(lb);
    const url = `http://127.0.0.1:${await listen(lb)}`;
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/api/x?i=${i}`, { method: 'POST', body: `hello ${i}` });
      const json = (await res.json()) as { name: string; method: string; url: string; body: string };
      expect(json).toMatchObject({ method: 'POST', url: `/api/x?i=${i}`, body: `hello ${i}` });
      names.push(json.name);
    }
    expect(names).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('routes around a backend that refuses connections, and answers 502 when none is left', async () => {
    const live = await backend('live');
    const dead = await freePort();
    const lb = createLoadBalancer({
      backends: [
        { host: '127.0.0.1', port: dead },
        { host: '127.0.0.1', port: live },
      ],
    });
    servers.push(lb);
    const url = `http://127.0.0.1:${await listen(lb)}`;
    for (let i = 0; i < 4; i++) expect(((await (await fetch(url)).json()) as { name: string }).name).toBe('live');

    const none = createLoadBalancer({ backends: [{ host: '127.0.0.1', port: dead }] });
    servers.push(none);
    expect((await fetch(`http://127.0.0.1:${await listen(none)}`)).status).toBe(502);
  });

  it('passes WebSocket upgrades through, round robin', async () => {
    const ports = [await backend('a'), await backend('b')];
    const lb = createLoadBalancer({ backends: ports.map((port) => ({ host: '127.0.0.1', port })) });
    servers.push(lb);
    const port = await listen(lb);
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=t`);
      await new Promise((r) => ws.once('open', r));
      ws.send(`ping${i}`);
      answers.push(await new Promise<string>((r) => ws.once('message', (m) => r(m.toString()))));
      ws.close();
    }
    expect(answers).toEqual(['a:ping0', 'b:ping1']);
  });
});
