import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app';

/**
 * `.env` in the working directory, if there is one (copy .env.example). Variables already
 * in the environment win, so `PORT=3001 npm start` still works with a .env beside it.
 */
function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/** For people, not log collectors: on stderr, so stdout stays JSON lines. */
function printWelcome(url: string, embedded: boolean, admins: readonly string[]): void {
  const lines = [
    '',
    `  keyed-chat is running at ${url}`,
    '',
    `    chat in the browser   ${url}/`,
    `    cluster view          ${url}/admin${admins.length === 0 ? '   (for ADMIN_USER_IDS users; none set)' : `   (admins: ${admins.join(', ')})`}`,
    `    REST API (OpenAPI)    ${url}/api/openapi.json`,
    `    metrics               ${url}/metrics`,
    ...(embedded ? ['', '  Single process: in-memory bus, embedded PostgreSQL under DATA_DIR, no Redis. README: "On real Kafka".'] : []),
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Entry point: one instance, configured from the environment, stopped by SIGINT/SIGTERM. */
async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = createApp({ config });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    await app.start();
    printWelcome(app.url(), config.kafka === undefined && config.databaseUrl === undefined, config.chat.adminUserIds);
  } catch (error) {
    app.logger.fatal({ err: error }, 'start failed');
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
