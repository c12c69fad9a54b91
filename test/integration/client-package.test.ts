import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { App } from '../../src/app';
import { startMemoryApp } from '../support/apps';
import { CLIENT_DIR } from '../support/client-build';
import { randomName } from '../support/infra';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The package as a user gets it: `npm pack` (which builds it), installed from the tarball
 * into a scratch folder outside the repository, with `ws` (its peer; one connection is
 * given it, the other finds it itself). There, a TypeScript file that
 * uses the package type-checks against the packed declarations (NodeNext resolution, ES2022
 * without DOM or Node types: the package's types stand alone), and
 * a plain ESM script chats through the embedded default server; `require` works (the CJS
 * build); the `bin` answers --help.
 */
describe('client package from its npm pack tarball', () => {
  let app: App;
  let scratch: string;

  beforeAll(async () => {
    app = await startMemoryApp();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'keyed-chat-client-'));
  });
  afterAll(async () => {
    await app?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs, type-checks, chats and runs its bin from a scratch folder', async () => {
    await run(NPM, ['pack', '--pack-destination', scratch], { cwd: CLIENT_DIR, timeout: 120_000 });
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error('npm pack made no tarball');

    const useDir = path.join(scratch, 'use');
    mkdirSync(useDir);
    writeFileSync(path.join(useDir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(scratch, tarball), 'ws@8'], {
      cwd: useDir,
      timeout: 180_000,
    });

    // Types: a consumer compiles against the tarball's declarations.
    writeFileSync(
      path.join(useDir, 'typed.ts'),
      [
        "import { createChatClient, ChatError, type Message, type ConnectionState } from '@keyed-chat/client';",
        "const client = createChatClient({ baseUrl: 'http://127.0.0.1:1' });",
        'const c = client.connect({ rooms: { r: 0 } });',
        "c.on('message', (m: Message) => m.seq.toFixed());",
        'const s: ConnectionState = c.state();',
        "const e = new ChatError({ code: 'X', message: 'y' });",
        'export { s, e };',
      ].join('\n'),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--target',
        'ES2022',
        '--lib',
        'ES2022',
        '--skipLibCheck',
        'false',
        'typed.ts',
      ],
      { cwd: useDir, timeout: 120_000 },
    ).catch((error: { stdout?: string }) => {
      throw new Error(`the packed types do not compile:\n${error.stdout ?? String(error)}`);
    });

    // Runtime: two users chat through the server.
    const a = randomName('pa').slice(0, 30);
    const b = randomName('pb').slice(0, 30);
    writeFileSync(
      path.join(useDir, 'chat.mjs'),
      `
import WebSocket from 'ws';
import { createChatClient } from '@keyed-chat/client';
const baseUrl = process.argv[2];
const webSocket = (url) => new WebSocket(url);
const alice = createChatClient({ baseUrl });
const bob = createChatClient({ baseUrl });
await alice.register(${JSON.stringify(a)}, 'password-1');
await bob.register(${JSON.stringify(b)}, 'password-1');
const room = await alice.api.createRoom({ name: 'packed', members: [${JSON.stringify(b)}] });
const ca = alice.connect({ webSocket, rooms: { [room.roomId]: 0 } });
// bob gives no webSocket: on Node 20 the package finds ws itself (installed as its peer).
const cb = bob.connect({ rooms: { [room.roomId]: 0 } });
const got = [];
const all = new Promise((resolve) => cb.on('message', (m) => { got.push(m.text); if (got.length === 5) resolve(); }));
ca.connect(); cb.connect();
const acked = await Promise.all([0, 1, 2, 3, 4].map((i) => ca.send(room.roomId, 'm' + i)));
await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error('bob got ' + got.length)), 20000))]);
ca.close(); cb.close();
console.log(JSON.stringify({ seqs: acked.map((m) => m.seq), got }));
`,
    );
    const { stdout } = await run(process.execPath, ['chat.mjs', app.url()], { cwd: useDir, timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ seqs: [1, 2, 3, 4, 5], got: ['m0', 'm1', 'm2', 'm3', 'm4'] });

    // CommonJS too (Node 20 cannot require ESM).
    const cjs = await run(
      process.execPath,
      ['-e', "const c = require('@keyed-chat/client'); console.log(typeof c.createChatConnection, c.CloseCodes.TOKEN_INVALID)"],
      { cwd: useDir, timeout: 30_000 },
    );
    expect(cjs.stdout.trim()).toBe('function 4001');

    const help = await run(path.join(useDir, 'node_modules', '.bin', 'keyed-chat'), ['--help'], { cwd: useDir, timeout: 30_000 });
    expect(help.stdout).toContain('usage: keyed-chat');
  });

  it('has an API reference generated from its types (TypeDoc, warnings are errors)', async () => {
    const out = path.join(scratch, 'api-docs');
    await run(
      process.execPath,
      [path.resolve(__dirname, '../../node_modules/typedoc/bin/typedoc'), '--treatWarningsAsErrors', '--out', out],
      { cwd: CLIENT_DIR, timeout: 180_000 },
    ).catch((error: { stdout?: string }) => {
      throw new Error(`typedoc failed:\n${error.stdout ?? String(error)}`);
    });
    expect(readdirSync(out)).toContain('index.html');
    expect(readdirSync(path.join(out, 'functions'))).toEqual(
      expect.arrayContaining(['createChatClient.html', 'createChatConnection.html']),
    );
  });
});
