#!/usr/bin/env node
/**
 * keyed-chat — a terminal client on the library. Interactive in a terminal; from a pipe it
 * sends each stdin line, waits until every send is acked (or refused), and exits:
 *
 *   keyed-chat --url http://127.0.0.1:3000 --user alice --room <roomId>
 *   printf 'hello\nworld\n' | KEYED_CHAT_PASSWORD=... keyed-chat --user alice --room <roomId>
 *
 * Lines starting with `/` are commands (/help lists them); any other line is sent to the
 * open room. Exit status: 0 when every send was acked, 1 when one failed, 2 on a usage or
 * login error.
 */
import { createInterface } from 'node:readline';
import { emitKeypressEvents } from 'node:readline';
import { parseArgs } from 'node:util';
import { createChatClient } from './chat-client.js';
import { ChatError } from './chat-error.js';
import type { ChatConnection } from './chat-connection.js';
import type { Message, RoomSummary } from './protocol.js';
import { defaultWebSocketFactory, type WebSocketFactory } from './web-socket.js';

const USAGE = `usage: keyed-chat [--url URL] --user USER [--password PW] [--register] [--room ROOM] [--listen MS]

  --url       the server (default $KEYED_CHAT_URL or http://127.0.0.1:3000)
  --user      your userId
  --password  your password (default $KEYED_CHAT_PASSWORD; asked for in a terminal)
  --register  register the user first (an existing user is fine)
  --room      open this room (id or name) at start
  --listen    from a pipe: after the sends, keep printing what arrives for MS ms

commands: /rooms  /open ROOM  /create NAME [MEMBER...]  /add USER  /history [N]  /who  /help  /quit`;

async function webSocketFactory(): Promise<WebSocketFactory> {
  const factory = await defaultWebSocketFactory();
  if (factory === undefined) throw new Error('no WebSocket: use Node 22+, or install the ws package (npm install ws)');
  return factory;
}

function readPassword(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput?: (s: string) => void };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    // Hide what is typed after the prompt.
    output._writeToOutput = () => undefined;
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      register: { type: 'boolean', default: false },
      room: { type: 'string' },
      listen: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const interactive = process.stdin.isTTY === true;
  const url = values.url ?? process.env['KEYED_CHAT_URL'] ?? 'http://127.0.0.1:3000';
  const userId = values.user ?? process.env['KEYED_CHAT_USER'];
  if (userId === undefined) {
    console.error(USAGE);
    return 2;
  }
  let password = values.password ?? process.env['KEYED_CHAT_PASSWORD'];
  if (password === undefined && interactive) password = await readPassword(`password for ${userId}: `);
  if (password === undefined) {
    console.error('keyed-chat: no password (--password or KEYED_CHAT_PASSWORD)');
    return 2;
  }
  const pw = password;
  const client = createChatClient({
    baseUrl: url,
    // No refresh endpoint on the server yet: a refused token logs in again with the password.
    reauthenticate: async (api) => {
      const login = await api.login(userId, pw);
      return { token: login.token, user: login.user };
    },
  });
  try {
    if (values.register) {
      await client.api.register({ userId, password: pw }).catch((error: unknown) => {
        if (!(error instanceof ChatError && error.code === 'USER_EXISTS')) throw error;
      });
    }
    await client.login(userId, pw);
  } catch (error) {
    console.error(`keyed-chat: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  const out = (line: string): void => {
    if (interactive) process.stdout.write(`\r\x1b[K${line}\n`);
    else process.stdout.write(`${line}\n`);
    prompt();
  };
  let rooms: RoomSummary[] = [];
  let openRoom: RoomSummary | undefined;
  const roomName = (roomId: string): string => rooms.find((r) => r.roomId === roomId)?.name ?? roomId;
  // Edits and deletes (v1.1) are events of the sequence: shown as what they do to the original.
  const show = (m: Message): string =>
    `[${roomName(m.roomId)}] #${m.seq} ${m.senderId}: ${
      m.edits === undefined ? m.text : m.deleted === true ? `(deleted message ${m.edits})` : `(edited ${m.edits}) ${m.text}`
    }`;
  const prompt = (): void => {
    if (interactive) process.stdout.write(`${openRoom === undefined ? '' : openRoom.name}> `);
  };

  const loadRooms = async (): Promise<RoomSummary[]> => (rooms = [...(await client.api.rooms())]);
  await loadRooms();
  const connection: ChatConnection = client.connect({
    webSocket: await webSocketFactory(),
    // Follow every room from now on: what arrives is printed, history is /history.
    rooms: Object.fromEntries(rooms.map((r) => [r.roomId, r.lastSeq])),
  });
  const online = new Set<string>();
  connection.on('message', (m) => {
    if (m.senderId !== userId) out(show(m));
  });
  connection.on('presence', ({ userId: who, online: isOnline }) => {
    if (isOnline) online.add(who);
    else online.delete(who);
    out(`* ${who} is ${isOnline ? 'online' : 'offline'}`);
  });
  connection.on('typing', ({ roomId, userId: who }) => out(`* ${who} is typing in ${roomName(roomId)}…`));
  connection.on('room', (change) => {
    void loadRooms().then(() =>
      out(`* room ${change.room.name} (${change.room.roomId}): ${change.event}${change.member ? ` ${change.member}` : ''} by ${change.by}`),
    );
  });
  connection.on('announcement', ({ text }) => out(`* announcement: ${text}`));
  connection.on('state', (s) => {
    if (s.state !== 'open' || interactive) process.stderr.write(`* ${s.state}: ${s.detail}\n`);
    else process.stderr.write(`* connected\n`);
  });
  connection.on('problem', (p) => process.stderr.write(`* ${p.kind}: ${p.error.message}\n`));

  const ready = new Promise<void>((resolve) => {
    const off = connection.on('state', (s) => {
      if (s.state === 'open' || s.state === 'closed') {
        off();
        resolve();
      }
    });
  });
  connection.connect();

  const find = (name: string): RoomSummary | undefined => rooms.find((r) => r.roomId === name) ?? rooms.find((r) => r.name === name);
  const sends: Promise<unknown>[] = [];
  let failures = 0;

  const open = async (name: string): Promise<void> => {
    let room = find(name);
    if (room === undefined) room = find(name) ?? (await loadRooms(), find(name));
    if (room === undefined) return out(`no room ${name} (/rooms lists yours)`);
    openRoom = room;
    connection.trackRoom(room.roomId, room.lastSeq);
    out(`* ${room.name} (${room.roomId}): ${room.members.join(', ')}`);
  };

  const command = async (line: string): Promise<boolean> => {
    const [cmd = '', ...args] = line.trim().split(/\s+/);
    switch (cmd) {
      case '/rooms':
        for (const r of await loadRooms()) out(`${r.roomId}  ${r.name}  (${r.members.join(', ')}; last #${r.lastSeq}, ${r.unread} unread)`);
        if (rooms.length === 0) out('no rooms yet (/create NAME MEMBER...)');
        return true;
      case '/open':
        await open(args.join(' '));
        return true;
      case '/create': {
        const [name, ...members] = args;
        if (name === undefined) return (out('usage: /create NAME [MEMBER...]'), true);
        const room = await client.api.createRoom({ name, members });
        await loadRooms();
        await open(room.roomId);
        return true;
      }
      case '/add':
        if (openRoom === undefined || args[0] === undefined) return (out('open a room, then /add USER'), true);
        await client.api.addMember(openRoom.roomId, args[0]);
        out(`* added ${args[0]}`);
        return true;
      case '/history': {
        if (openRoom === undefined) return (out('open a room first'), true);
        const limit = Math.min(200, Number(args[0] ?? 20) || 20);
        const last = (await loadRooms(), find(openRoom.roomId)?.lastSeq ?? 0);
        for (const m of await client.api.history(openRoom.roomId, { afterSeq: Math.max(0, last - limit), limit })) out(show(m));
        return true;
      }
      case '/who':
        out(`online: ${[...online].join(', ') || 'nobody else'}`);
        return true;
      case '/help':
        out(USAGE.split('\n').slice(-1)[0]!);
        return true;
      case '/quit':
        return false;
      default:
        out(`unknown command ${cmd} (/help)`);
        return true;
    }
  };

  const handle = async (line: string): Promise<boolean> => {
    if (line.trim() === '') return true;
    if (line.startsWith('/')) {
      try {
        return await command(line);
      } catch (error) {
        out(`! ${error instanceof Error ? error.message : String(error)}`);
        return true;
      }
    }
    if (openRoom === undefined) {
      out('open a room first (/rooms, /open ROOM)');
      failures++;
      return true;
    }
    const room = openRoom;
    sends.push(
      connection.send(room.roomId, line).then(
        (m) => out(show(m)),
        (error: unknown) => {
          failures++;
          out(`! not sent: ${error instanceof Error ? error.message : String(error)}`);
        },
      ),
    );
    return true;
  };

  await ready;
  if (connection.state() === 'closed') return 2;
  if (values.room !== undefined) await open(values.room);

  if (interactive) {
    // Typing indicator: at most one frame per 3 s while keys are pressed.
    emitKeypressEvents(process.stdin);
    let lastTyping = 0;
    process.stdin.on('keypress', () => {
      if (openRoom !== undefined && Date.now() - lastTyping > 3_000) {
        lastTyping = Date.now();
        connection.typing(openRoom.roomId);
      }
    });
  }
  const rl = createInterface({ input: process.stdin, ...(interactive ? { output: process.stdout, terminal: true } : { terminal: false }) });
  prompt();
  // Lines are handled one at a time, in order (a /open before a line applies to it).
  let chain = Promise.resolve(true);
  let quit = false;
  await new Promise<void>((resolve) => {
    rl.on('line', (line) => {
      chain = chain
        .then((go) => (go && !quit ? handle(line) : false))
        .then((go) => {
          if (!go && !quit) {
            quit = true;
            rl.close();
          }
          return go;
        });
    });
    rl.on('close', () => resolve());
  });
  await chain;
  await Promise.all(sends);
  const listenMs = Number(values.listen ?? 0);
  if (listenMs > 0) await new Promise((r) => setTimeout(r, listenMs));
  connection.close();
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`keyed-chat: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
