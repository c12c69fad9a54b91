/**
 * Shared settings for the offline database tooling in scripts/db (see docs/database.md).
 * Tooling only: application code reads its own configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SCHEMA_PATH = path.join(REPO_ROOT, 'prisma', 'schema.prisma');
export const MIGRATIONS_DIR = path.join(REPO_ROOT, 'prisma', 'migrations');

/** Used when DATABASE_URL is unset (also by prisma.config.ts). */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/chat';

/**
 * An existing file that stands in for Prisma's native engines. Prisma's CLI downloads the
 * schema engine on first use unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file;
 * `prisma generate` and the JS-engine `migrate diff` never run it.
 */
export const ENGINE_STUB = path.join(__dirname, 'schema-engine-unavailable.sh');

export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL?.trim();
  return url ? url : DEFAULT_DATABASE_URL;
}

/**
 * Environment for a Prisma CLI child process on an offline machine. Engine paths that the
 * caller already set (a machine that has the real engines) are kept.
 */
export function offlinePrismaEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || ENGINE_STUB,
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY || ENGINE_STUB,
    // No update check or telemetry: there is no network to send them to.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    ...extra,
  };
}

/**
 * The entry point of an installed Prisma CLI. `packageName` is `prisma` (Prisma 7, the
 * project's CLI) or `prisma6` (the npm alias of prisma@6.19 used only for its JavaScript
 * schema engine). Refuses a CLI of the wrong major version.
 */
export function prismaCli(packageName: 'prisma' | 'prisma6'): { bin: string; version: string } {
  const pkgJson = require.resolve(`${packageName}/package.json`, { paths: [REPO_ROOT] });
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string; bin: { prisma: string } };
  const expectedMajor = packageName === 'prisma' ? '7' : '6';
  if (pkg.version.split('.')[0] !== expectedMajor) {
    throw new Error(`${packageName} is ${pkg.version}, expected ${expectedMajor}.x: run npm install`);
  }
  const bin = path.join(path.dirname(pkgJson), pkg.bin.prisma);
  if (!existsSync(bin)) throw new Error(`${packageName}: ${bin} is missing: run npm install`);
  return { bin, version: pkg.version };
}

// The URL helpers live beside the runtime migrator; re-exported for the tooling here.
export { databaseName, quoteIdent, redactDatabaseUrl as redactUrl, withDatabase } from '../../src/adapters/postgres/postgres-url';
