/**
 * Prisma's own SQL for schema.prisma, offline.
 *
 * Prisma 7's CLI needs the native schema engine for `migrate diff`, and that binary cannot
 * be downloaded here. Prisma 6.19 ships an experimental JavaScript/WebAssembly build of the
 * same schema engine (`engine: "js"` in its config); it is installed as the devDependency
 * `prisma6` (npm:prisma@6.19.x) and driven through scripts/db/prisma6.config.ts.
 *
 * Prisma 6 still wants `url` in the datasource block (Prisma 7 forbids it there), so the
 * engine gets a temporary copy of the schema with `url = env("DATABASE_URL")` added; the
 * models are untouched.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { databaseUrlFromEnv, offlinePrismaEnv, prismaCli, quoteIdent, REPO_ROOT, withDatabase } from './env';
import { dropDatabase, MIGRATION_LOCK, readLocalMigrations, splitSchemaParam } from '../../src/adapters/postgres/migrations';

const CONFIG_PATH = path.join(__dirname, 'prisma6.config.ts');

export interface JsEngineOptions {
  readonly schemaPath: string;
  /**
   * Any URL of the PostgreSQL server to use (default DATABASE_URL or its default). The
   * engine only ever touches a throwaway database created next to it and dropped after.
   */
  readonly serverUrl?: string;
}

export interface DiffResult {
  /** The SQL script, as Prisma prints it. */
  readonly sql: string;
  /** True when the engine found no difference. */
  readonly empty: boolean;
}

/** The schema with `url = env("DATABASE_URL")` in its datasource block if it has no url. */
export function schemaForPrisma6(schema: string): string {
  const datasource = /(datasource\s+\w+\s*\{)([^}]*)\}/m.exec(schema);
  if (!datasource) throw new Error('schema.prisma has no datasource block');
  if (/^\s*url\s*=/m.test(datasource[2] ?? '')) return schema;
  const at = datasource.index + (datasource[1] ?? '').length;
  return `${schema.slice(0, at)}\n  url = env("DATABASE_URL")${schema.slice(at)}`;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const { bin } = prismaCli('prisma6');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * Runs `prisma6 migrate diff <from> --to-schema-datamodel <schema> --script --exit-code`
 * with the JavaScript engine, against a throwaway database.
 */
async function diffToSchema(from: string[], options: JsEngineOptions): Promise<DiffResult> {
  const serverUrl = splitSchemaParam(options.serverUrl ?? databaseUrlFromEnv()).url;
  const scratchDb = `prisma_js_engine_${randomBytes(6).toString('hex')}`;
  const scratchUrl = withDatabase(serverUrl, scratchDb);
  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(scratchDb)}`);
  } finally {
    await admin.end();
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'prisma6-'));
  try {
    const schemaCopy = path.join(dir, 'schema.prisma');
    writeFileSync(schemaCopy, schemaForPrisma6(readFileSync(options.schemaPath, 'utf8')));
    const env = offlinePrismaEnv({ DATABASE_URL: scratchUrl, PRISMA6_ADAPTER_URL: scratchUrl });
    const args = ['migrate', 'diff', '--config', CONFIG_PATH, ...from, '--to-schema-datamodel', schemaCopy, '--script', '--exit-code'];
    const { code, stdout, stderr } = await run(args, env);
    // --exit-code: 0 = no difference, 2 = difference, anything else = error.
    if (code !== 0 && code !== 2) {
      throw new Error(`prisma6 migrate diff failed (exit ${code}):\n${stderr.trim()}\n${stdout.trim()}`);
    }
    return { sql: stdout, empty: code === 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(serverUrl, scratchDb);
  }
}

/** The SQL that creates schema.prisma's tables in an empty database (`migrate diff --from-empty`). */
export function sqlFromEmpty(options: JsEngineOptions): Promise<DiffResult> {
  return diffToSchema(['--from-empty'], options);
}

/**
 * The SQL that brings a database migrated with `migrationsDir` to schema.prisma
 * (`migrate diff --from-migrations`: the engine applies the migrations to a scratch database
 * and compares, as `prisma migrate dev --create-only` does with its shadow database).
 * With no migrations yet this is the first migration; unlike `--from-empty` it then has no
 * `CREATE SCHEMA IF NOT EXISTS "public"`, exactly like `migrate dev`.
 */
export async function sqlFromMigrations(options: JsEngineOptions & { migrationsDir: string }): Promise<DiffResult> {
  if (readLocalMigrations(options.migrationsDir).length > 0) {
    return diffToSchema(['--from-migrations', options.migrationsDir], options);
  }
  const empty = mkdtempSync(path.join(tmpdir(), 'prisma6-migrations-'));
  try {
    writeFileSync(path.join(empty, 'migration_lock.toml'), MIGRATION_LOCK);
    return await diffToSchema(['--from-migrations', empty], options);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}
