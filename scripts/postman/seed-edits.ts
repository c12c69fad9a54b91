import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

/**
 * What the Postman collection's v1.1 history check reads: edits and deletes are made over
 * the WebSocket, which newman cannot speak, so the runner makes them first. A fresh user
 * posts two messages in a room of its own, edits the first and deletes the second; the
 * collection then reads the room's history over REST and checks the four events.
 */
export interface SeededEdits {
  readonly roomId: string;
  readonly token: string;
  readonly editedMessageId: string;
  readonly deletedMessageId: string;
}

interface Frame {
  type: string;
  clientMsgId?: string;
  code?: string;
  message?: { id: string } | string;
}

async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function seedEdits(baseUrl: string, timeoutMs = 15_000): Promise<SeededEdits> {
  const userId = `editor-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await postJson(`${baseUrl}/api/auth/register`, { userId, password });
  const { token } = await postJson<{ token: string }>(`${baseUrl}/api/auth/login`, { userId, password });
  const { roomId } = await postJson<{ roomId: string }>(`${baseUrl}/api/rooms`, { name: 'edits (postman)' }, token);

  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const w of waiters.splice(0)) w();
  });
  const next = (what: string, match: (f: Frame) => boolean): Promise<Frame> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`seeding edits: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        const error = frames.find((f) => f.type === 'error');
        if (error !== undefined) return (clearTimeout(timer), reject(new Error(`seeding edits: ${JSON.stringify(error)}`)));
        const found = frames.find(match);
        if (found !== undefined) return (clearTimeout(timer), resolve(found));
        waiters.push(check);
      };
      check();
    });
  const ackOf = async (clientMsgId: string): Promise<string> => {
    const ack = await next(`ack ${clientMsgId}`, (f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
    if (typeof ack.message !== 'object') throw new Error(`seeding edits: ack without a message: ${JSON.stringify(ack)}`);
    return ack.message.id;
  };
  try {
    await next('ready', (f) => f.type === 'ready');
    const send = (frame: Record<string, unknown>): void => ws.send(JSON.stringify(frame));
    send({ type: 'send', roomId, clientMsgId: 's1', text: 'first, to be edited' });
    const editedMessageId = await ackOf('s1');
    send({ type: 'send', roomId, clientMsgId: 's2', text: 'second, to be deleted' });
    const deletedMessageId = await ackOf('s2');
    send({ type: 'edit', roomId, messageId: editedMessageId, text: 'first, edited', clientMsgId: 'e1' });
    await ackOf('e1');
    send({ type: 'delete', roomId, messageId: deletedMessageId, clientMsgId: 'd1' });
    await ackOf('d1');
    return { roomId, token, editedMessageId, deletedMessageId };
  } finally {
    ws.close();
  }
}
