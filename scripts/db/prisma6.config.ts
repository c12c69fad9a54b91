/**
 * Prisma config for the `prisma6` CLI (npm alias of prisma@6.19) — used only by
 * scripts/db/js-engine.ts to run Prisma's experimental JavaScript (WebAssembly) schema
 * engine offline: `migrate diff` with `engine: "js"` needs no native binary.
 *
 * Not the project's Prisma config: that is prisma.config.ts (Prisma 7).
 *
 * The engine connects through a driver adapter even when it only renders SQL, so
 * js-engine.ts points PRISMA6_ADAPTER_URL at a throwaway database (for `--from-migrations`
 * the engine applies the migrations there: it is its shadow database).
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool } from 'pg';
import { defineConfig } from 'prisma6/config';

const adapterUrl = process.env.PRISMA6_ADAPTER_URL;
if (!adapterUrl) throw new Error('PRISMA6_ADAPTER_URL is not set: run this through scripts/db/js-engine.ts');

/**
 * When the engine describes a database it reads catalog columns of PostgreSQL's internal
 * single-byte type "char" (oid 18: pg_constraint.contype, confdeltype, …), which the pg
 * driver adapter rejects ("Column type 'char' could not be deserialized"). Their text form
 * is a one-character string, so the adapter is told they are text (oid 25).
 */
const TEXT_OID = 25;
const INTERNAL_CHAR_OID = 18;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };
type Callback = (error: unknown, result: QueryResultLike) => void;

function asText(result: QueryResultLike): QueryResultLike {
  for (const field of result?.fields ?? []) {
    if (field.dataTypeID === INTERNAL_CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return result;
}

const BaseClient = Client as unknown as new (config?: unknown) => { query(...args: unknown[]): unknown };

class CharAsTextClient extends BaseClient {
  override query(...args: unknown[]): unknown {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = ((error, result) => (callback as Callback)(error, asText(result))) satisfies Callback;
      return super.query(...args);
    }
    const result = super.query(...args);
    return result instanceof Promise ? result.then((r: QueryResultLike) => asText(r)) : result;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () =>
    new PrismaPg(
      new Pool({
        connectionString: adapterUrl,
        max: 2,
        // Let the CLI exit as soon as it is done instead of waiting for idle connections to time out.
        allowExitOnIdle: true,
        Client: CharAsTextClient as unknown as typeof Client,
      }),
    ),
});
