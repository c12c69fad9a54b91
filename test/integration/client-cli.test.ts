import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { App } from '../../src/app';
import { startMemoryApp } from '../support/apps';
import { buildClient, CLIENT_CLI } from '../support/client-build';
import { connectUser, type ClientUser } from '../support/client-harness';
import { randomName, waitFor } from '../support/infra';

/** A running `keyed-chat` terminal client, driven through stdin, read through stdout. */
interface Cli {
  readonly child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  write(line: string): void;
  /** Waits (bounded) until stdout contains `text`. */
  sees(text: string, timeoutMs?: number): Promise<void>;
  exited(timeoutMs?: number): Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [CLIENT_CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  let out = '';
  let err = '';
  let code: number | null | undefined;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', (c) => (code = c));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    write: (line) => void child.stdin.write(`${line}\n`),
    sees: async (text, timeoutMs = 20_000) => {
      await waitFor(`cli stdout to show ${JSON.stringify(text)}; stdout: ${out}; stderr: ${err}`, () => out.includes(text), {
        timeoutMs,
        intervalMs: 20,
      });
    },
    exited: (timeoutMs = 20_000) =>
      waitFor(`cli exit; stderr: ${err}`, () => (code === undefined ? undefined : { code }), { timeoutMs, intervalMs: 20 }).then(
        (r) => r.code,
      ),
  };
}

/**
 * The terminal client (the package's `bin`, built) against the embedded default server:
 * from a pipe it sends each line and exits once all are acked; kept open, it takes
 * commands and shows messages, presence and typing as they come.
 */
describe('client CLI (keyed-chat bin)', () => {
  let app: App;
  const clis: Cli[] = [];
  const users: ClientUser[] = [];
  const password = 'password-1';

  beforeAll(async () => {
    buildClient();
    app = await startMemoryApp();
  });
  afterAll(async () => {
    for (const c of clis) if (c.child.exitCode === null) c.child.kill();
    for (const u of users) u.connection.close();
    await app?.stop();
  });

  it('from a pipe: registers, sends every line to the room, exits 0 once all are acked', async () => {
    const alice = randomName('alice').slice(0, 40);
    const bob = await connectUser({ baseUrl: app.url(), userId: randomName('bob').slice(0, 40) });
    users.push(bob);
    // First run: registers alice; nothing on stdin, so it logs in, connects and exits.
    const first = runCli(['--url', app.url(), '--user', alice, '--register'], { KEYED_CHAT_PASSWORD: password });
    clis.push(first);
    first.child.stdin.end();
    expect(await first.exited()).toBe(0);
    await bob.client.api.createRoom({ name: 'pipes', members: [alice] });

    const cli = runCli(['--url', app.url(), '--user', alice, '--room', 'pipes'], { KEYED_CHAT_PASSWORD: password });
    clis.push(cli);
    cli.write('hello from a pipe');
    cli.write('second line');
    cli.child.stdin.end();
    expect(await cli.exited()).toBe(0);
    expect(cli.stdout()).toContain(`[pipes] #1 ${alice}: hello from a pipe`);
    expect(cli.stdout()).toContain(`[pipes] #2 ${alice}: second line`);
    const room = (await bob.client.api.rooms()).find((r) => r.name === 'pipes')!;
    expect((await bob.client.api.history(room.roomId)).map((m) => m.text)).toEqual(['hello from a pipe', 'second line']);
  });

  it('interactively: lists rooms, opens one, chats, shows presence and typing', async () => {
    const alice = randomName('alice').slice(0, 40);
    const bobId = randomName('bob').slice(0, 40);
    const setup = await connectUser({ baseUrl: app.url(), userId: alice, password });
    users.push(setup);
    const bobSetup = await connectUser({ baseUrl: app.url(), userId: bobId });
    bobSetup.connection.close();
    const room = await setup.client.api.createRoom({ name: 'live', members: [bobId] });
    setup.connection.close();

    const cli = runCli(['--url', app.url(), '--user', alice, '--password', password]);
    clis.push(cli);
    cli.write('/rooms');
    await cli.sees(`${room.roomId}  live  (`);
    cli.write('/open live');
    await cli.sees(`* live (${room.roomId})`);

    const bob = await connectUser({ baseUrl: app.url(), userId: bobId, connection: { rooms: { [room.roomId]: 0 } } });
    users.push(bob);
    await cli.sees(`* ${bobId} is online`);
    bob.connection.typing(room.roomId);
    await cli.sees(`* ${bobId} is typing in live`);
    await bob.connection.send(room.roomId, 'hi alice');
    await cli.sees(`[live] #1 ${bobId}: hi alice`);
    cli.write('hi bob');
    await waitFor('bob gets it', () => bob.delivered.find((m) => m.text === 'hi bob'), { timeoutMs: 20_000, intervalMs: 20 });
    await cli.sees(`[live] #2 ${alice}: hi bob`);
    cli.write('/quit');
    expect(await cli.exited()).toBe(0);
  });
});
