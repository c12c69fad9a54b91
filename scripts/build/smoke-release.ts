/**
 * npm run smoke:release — checks the release build the way an operator would use it. CI
 * runs it after `npm run build`:
 *
 *   1. copies dist/, package.json and package-lock.json into a clean temporary folder and
 *      installs the production dependencies alone there, as the Dockerfile does
 *      (`npm ci --omit=dev --omit=optional`), then checks that no development tool came
 *      along (tsx, typescript, the Prisma CLI, jest, esbuild). `--omit=optional` because
 *      npm keeps "devOptional" packages with `--omit=dev` alone: the Prisma CLI and
 *      TypeScript are optional peers of @prisma/client, so a plain `npm ci --omit=dev`
 *      installs them and 130 packages more (it runs the build just as well; the stricter
 *      install proves the build needs none of them);
 *   2. runs `node dist/migrate.js` on a fresh embedded database (DATABASE_URL unset);
 *   3. starts `node dist/main.js` on it with NODE_ENV=production and nothing from the
 *      caller's environment, waits for /readyz, fetches the web page, registers and logs in
 *      two users, opens a WebSocket for each (the `ws` client), creates a room and sends a
 *      message from one to the other;
 *   4. stops it with SIGTERM and expects a clean exit;
 *   5. with `--postgres <server URL>`, steps 2–4 again on a PostgreSQL server: a scratch
 *      database that `node dist/migrate.js` creates and migrates (twice: the second run
 *      must find nothing to do), dropped afterwards.
 *
 * The artifact runs on the Node that runs this script, so `PATH=<node 24>/bin:$PATH npm
 * run smoke:release` checks it on Node 24. Every wait is bounded; any failure exits 1
 * with what went wrong and the server's output. `--keep` leaves the folder for a look.
 *
 *   npm run smoke:release -- --postgres postgresql://postgres@127.0.0.1:5432
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { dropDatabase } from '../../src/adapters/postgres/migrations';
import { withDatabase } from '../../src/adapters/postgres/postgres-url';
import { DIST_DIR, REPO_ROOT } from './build-paths';

const keep = process.argv.includes('--keep');
const postgresAt = process.argv.indexOf('--postgres');
const postgresServer = postgresAt === -1 ? undefined : process.argv[postgresAt + 1];
const STEP_TIMEOUT_MS = 30_000;

function step(line: string): void {
  console.log(`smoke: ${line}`);
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The environment the artifact gets: none of the caller's settings (a DATABASE_URL or KAFKA_BROKERS in CI's shell must not leak in). */
function releaseEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
  };
}

function installProduction(dir: string): void {
  cpSync(DIST_DIR, path.join(dir, 'dist'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) {
    if (existsSync(path.join(REPO_ROOT, file))) copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  const args = ['ci', '--omit=dev', '--omit=optional', '--no-audit', '--no-fund'];
  step(`npm ${args.join(' ')} in ${dir}`);
  const started = Date.now();
  const npm = spawnSync('npm', args, { cwd: dir, stdio: 'inherit', timeout: 600_000 });
  if (npm.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${npm.status ?? npm.signal})`);
  step(`production install took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const devTools = ['tsx', 'typescript', 'prisma', 'jest', 'esbuild'].filter((name) => existsSync(path.join(dir, 'node_modules', name)));
  if (devTools.length > 0) throw new Error(`development packages in the production install: ${devTools.join(', ')}`);
}

function migrate(dir: string, env: NodeJS.ProcessEnv, expect: RegExp): void {
  const result = spawnSync(process.execPath, ['dist/migrate.js'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) throw new Error(`node dist/migrate.js exited with ${result.status ?? result.signal}`);
  if (!expect.test(result.stdout + result.stderr)) throw new Error(`node dist/migrate.js did not print ${expect}`);
}

const APPLIED_INIT = /Applied 20\d+_init/;

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

async function startServer(dir: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitFor(
    'the server to print its URL',
    () => {
      if (child.exitCode !== null) throw new Error(`node dist/main.js exited with ${child.exitCode}:\n${output}`);
      return /keyed-chat is running at (http:\/\/\S+)/.exec(output)?.[1];
    },
    60_000,
  );
  return { child, url, output: () => output };
}

async function json(
  url: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function expectStatus(what: string, actual: number, expected: number, body: unknown): void {
  if (actual !== expected) throw new Error(`${what}: HTTP ${actual}, expected ${expected}: ${JSON.stringify(body)}`);
}

/** A WebSocket with every frame it received. */
async function connect(baseUrl: string, token: string, name: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[] }> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${name}: upgrade refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
  await waitFor(`${name}'s ready frame`, () => frames.find((f) => f.type === 'ready'));
  return { ws, frames };
}

async function chat(url: string): Promise<void> {
  const ready = await json(`${url}/readyz`);
  expectStatus('/readyz', ready.status, 200, ready.body);
  const page = await fetch(`${url}/`);
  if (page.status !== 200 || !(await page.text()).includes('<html'))
    throw new Error(`GET / answered ${page.status} without the web client`);
  const tokens: Record<string, string> = {};
  for (const userId of ['alice', 'bob']) {
    const reg = await json(`${url}/api/auth/register`, { method: 'POST', body: { userId, password: 'password-1' } });
    expectStatus(`register ${userId}`, reg.status, 201, reg.body);
    const login = await json(`${url}/api/auth/login`, { method: 'POST', body: { userId, password: 'password-1' } });
    expectStatus(`login ${userId}`, login.status, 200, login.body);
    tokens[userId] = String(login.body.token);
  }
  step('registered and logged in alice and bob');
  const alice = await connect(url, tokens.alice ?? '', 'alice');
  const bob = await connect(url, tokens.bob ?? '', 'bob');
  try {
    const room = await json(`${url}/api/rooms`, { method: 'POST', token: tokens.alice, body: { name: 'smoke', members: ['bob'] } });
    expectStatus('create a room', room.status, 201, room.body);
    const roomId = String(room.body.roomId);
    const text = `hello from the release build ${randomBytes(4).toString('hex')}`;
    alice.ws.send(JSON.stringify({ type: 'send', roomId, clientMsgId: 'smoke-1', text }));
    await waitFor("alice's ack", () => alice.frames.find((f) => f.type === 'ack' && f.clientMsgId === 'smoke-1'));
    const delivered = await waitFor("bob's copy of the message", () =>
      bob.frames.find((f) => f.type === 'message' && (f.message as { text?: string } | undefined)?.text === text),
    );
    step(`bob received ${JSON.stringify((delivered.message as { text: string }).text)} over his WebSocket`);
  } finally {
    alice.ws.close();
    bob.ws.close();
  }
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) throw new Error(`the server exited early with ${server.child.exitCode}`);
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  const code = await Promise.race([
    exited,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STEP_TIMEOUT_MS).unref()),
  ]);
  if (code === 'timeout') {
    server.child.kill('SIGKILL');
    throw new Error('the server did not stop within 30 s of SIGTERM');
  }
  if (code !== 0) throw new Error(`the server exited with ${code} after SIGTERM`);
  step('stopped cleanly on SIGTERM');
}

/** Migrates, starts, chats, stops: one database. */
async function runOn(dir: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  step(`--- on ${what}`);
  migrate(dir, env, APPLIED_INIT);
  if (env.DATABASE_URL !== undefined) migrate(dir, env, /No pending migrations/);
  const server = await startServer(dir, env);
  try {
    step(`node dist/main.js is running at ${server.url}`);
    await chat(server.url);
    await stop(server);
  } catch (error) {
    server.child.kill('SIGKILL');
    console.error(`--- server output ---\n${server.output()}\n---`);
    throw error;
  }
}

async function main(): Promise<void> {
  if (!existsSync(path.join(DIST_DIR, 'main.js'))) throw new Error('dist/main.js is missing: run npm run build first');
  if (postgresAt !== -1 && !postgresServer) throw new Error('usage: --postgres <postgresql://server URL>');
  const dir = mkdtempSync(path.join(tmpdir(), 'keyed-chat-release-'));
  try {
    step(`node ${process.version}`);
    installProduction(dir);
    await runOn(dir, releaseEnv(path.join(dir, 'data')), 'the embedded database');
    if (postgresServer !== undefined) {
      const database = `keyed_chat_smoke_${randomBytes(4).toString('hex')}`;
      try {
        await runOn(
          dir,
          { ...releaseEnv(path.join(dir, 'unused')), DATABASE_URL: withDatabase(postgresServer, database) },
          `PostgreSQL (${database})`,
        );
      } finally {
        await dropDatabase(postgresServer, database);
      }
    }
    step('the release build works');
  } finally {
    if (keep) step(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`smoke: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
