/**
 * Named prepared statements for the hot raw statements, on `@prisma/adapter-pg`.
 *
 * Why: the message append is one large statement (ten CTEs), and PostgreSQL parsed, analysed
 * and planned it again for every batch: a `perf` profile of the PostgreSQL backends at
 * 200 msg/s put half of their CPU there (planning alone a third), not in executing it. A
 * statement sent with a name is parsed once per pooled connection and then only bound and
 * executed; after five runs PostgreSQL may keep a generic plan (`plan_cache_mode` auto).
 *
 * Which statements: those whose SQL starts with the marker `/* prepared: <name> *\/`
 * (`<name>`: lower case letters and `_`). Only those: a name per distinct SQL text, and
 * Prisma's generated queries vary with their arguments (`IN` lists), so naming them all
 * would grow every connection's statement cache without bound. node-postgres refuses one
 * name used for two texts, so a marker copied to another statement fails loudly.
 *
 * A pooler in transaction mode that cannot keep prepared statements (PgBouncer before 1.21,
 * or without `max_prepared_statements`) needs them off: DATABASE_PREPARED_STATEMENTS=false.
 */

const MARKER = /^\s*\/\* prepared: ([a-z_]+) \*\//;

/**
 * The statement name for `sql`: `chat_<name>` for a marked statement, '' (unnamed: parsed
 * every time, as without a generator) for any other.
 */
export function preparedStatementName(sql: string): string {
  const match = MARKER.exec(sql);
  return match === null ? '' : `chat_${match[1]!}`;
}
