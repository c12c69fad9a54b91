/**
 * The WebSocket side of a delivery with nothing else: one process, plain `ws`, every member
 * on it. Per frame it does what the peer (socketio-node.ts) does and no more — the JWT
 * verified at the upgrade, the send parsed and checked (shape, size, the sender in the
 * room), the message stamped, the sender acked, the other members sent the message (one
 * JSON text, written to each socket) — with no cluster, no storage and no Kafka. So its CPU
 * per delivery is the least a delivery's WebSocket work costs in node on this machine: a
 * floor for that part of ours, as the kafkajs path is for the Kafka part.
 *
 * Run by scripts/bench (never by the product): PORT, JWT_SECRET, JWT_ISSUER and
 * JWT_AUDIENCE come from the environment. A client connects to
 * `/?token=<jwt>&rooms=<id,id>` and sends `{"roomId","clientMsgId","text"}`; it gets
 * `{"type":"ack","clientMsgId","message"}` or `{"type":"error","clientMsgId","code"}`, and
 * others' messages as `{"type":"message","message"}`.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { isSendFrame, requiredEnv, stampedMessage, tokenVerifier } from './peer-checks';

const port = Number(requiredEnv('PORT'));
const verify = tokenVerifier();

const rooms = new Map<string, Set<WebSocket>>();

const http = createServer((_req, res) => res.writeHead(200).end('ws relay'));
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });

// Same check as ours and the peer's: HS256 only, issuer and audience.
http.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://relay');
  let userId: string;
  try {
    userId = verify(url.searchParams.get('token') ?? '');
  } catch {
    socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
    return;
  }
  const joined = (url.searchParams.get('rooms') ?? '').split(',').filter(Boolean);
  wss.handleUpgrade(req, socket, head, (ws) => {
    for (const r of joined) {
      const members = rooms.get(r) ?? new Set<WebSocket>();
      members.add(ws);
      rooms.set(r, members);
    }
    ws.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        frame = undefined;
      }
      const send = isSendFrame(frame) ? frame : undefined;
      const members = send === undefined ? undefined : rooms.get(send.roomId);
      if (send === undefined || members === undefined || !members.has(ws)) {
        ws.send(JSON.stringify({ type: 'error', clientMsgId: send?.clientMsgId, code: 'VALIDATION' }));
        return;
      }
      const message = stampedMessage(send, userId);
      const out = JSON.stringify({ type: 'message', message });
      for (const member of members) if (member !== ws) member.send(out);
      ws.send(JSON.stringify({ type: 'ack', clientMsgId: send.clientMsgId, message }));
    });
    ws.on('close', () => {
      for (const r of joined) rooms.get(r)?.delete(ws);
    });
  });
});

http.listen(port, '127.0.0.1', () => process.stdout.write(`ws relay on ${port}\n`));
const stop = (): void => {
  for (const c of wss.clients) c.terminate();
  http.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
