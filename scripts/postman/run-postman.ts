/**
 * npm run postman — runs the Postman collection (postman/) with newman against a fresh
 * instance: in-memory bus, embedded PostgreSQL in memory, no Redis, a random port, and a
 * random admin (listed in ADMIN_USER_IDS and handed to the collection as adminUserId).
 * Before newman it makes an edit and a delete over the WebSocket (seed-edits.ts), which the
 * collection's v1.1 history check reads. Exits with newman's status, so CI fails on a
 * failed request test.
 *
 *   npm run postman                                      start an instance, run, stop it
 *   BASE_URL=http://127.0.0.1:3000 ADMIN_USER_ID=alice npm run postman
 *                                                        run against a running instance
 * Extra arguments go to newman (e.g. `npm run postman -- --verbose`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { buildWeb } from '../web/build-web';
import { seedEdits } from './seed-edits';

const ROOT = path.resolve(__dirname, '..', '..');
const COLLECTION = path.join(ROOT, 'postman', 'chat.postman_collection.json');
const ENVIRONMENT = path.join(ROOT, 'postman', 'local.postman_environment.json');

async function startInstance(adminUserId: string): Promise<App> {
  await buildWeb();
  // Its own environment, not the caller's: a KAFKA_BROKERS or DATABASE_URL in the shell
  // must not point a throwaway run at real infrastructure.
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    INSTANCE_ID: `postman-${randomBytes(3).toString('hex')}`,
    DATA_DIR: 'memory://',
    ADMIN_USER_IDS: adminUserId,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
  });
  const app = createApp({ config, logger: pino({ level: 'warn' }) });
  await app.start();
  return app;
}

function newman(args: readonly string[]): Promise<number> {
  const bin = require.resolve('newman/bin/newman.js', { paths: [ROOT] });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: ROOT });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

async function main(extra: readonly string[]): Promise<number> {
  const given = process.env['BASE_URL'];
  const adminUserId = given === undefined ? `admin-${randomBytes(4).toString('hex')}` : (process.env['ADMIN_USER_ID'] ?? '');
  const app = given === undefined ? await startInstance(adminUserId) : undefined;
  const baseUrl = given ?? app?.url() ?? '';
  console.log(`newman: ${path.relative(ROOT, COLLECTION)} against ${baseUrl}${app === undefined ? '' : ' (a fresh in-memory instance)'}`);
  try {
    const edits = await seedEdits(baseUrl);
    return await newman([
      'run',
      COLLECTION,
      '--environment',
      ENVIRONMENT,
      '--env-var',
      `baseUrl=${baseUrl}`,
      '--env-var',
      `adminUserId=${adminUserId}`,
      // Edits and deletes are made over the WebSocket (newman has none): see seed-edits.ts.
      '--env-var',
      `editsRoomId=${edits.roomId}`,
      '--env-var',
      `editsToken=${edits.token}`,
      '--env-var',
      `editedMessageId=${edits.editedMessageId}`,
      '--env-var',
      `deletedMessageId=${edits.deletedMessageId}`,
      '--reporters',
      'cli',
      '--color',
      'off',
      '--timeout-request',
      '15000',
      ...extra,
    ]);
  } finally {
    await app?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`postman run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
