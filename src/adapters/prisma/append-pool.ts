import { DatabaseError, Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';

/**
 * The connections the message append runs on: a pool of its own whose sessions keep
 * PostgreSQL's generic plan for it (`plan_cache_mode = force_generic_plan`).
 *
 * Why: the append is one large statement (ten CTEs) over parameter arrays. Named and
 * prepared, PostgreSQL parses it once per connection, but with `plan_cache_mode` auto it
 * compares the generic plan's estimated cost with the custom plans' after five runs, and
 * for this statement it never picks the generic one: it planned the statement again for
 * every append. Measured alone (scripts/bench/append-statement.ts --compare plan), forcing
 * the generic plan cut PostgreSQL's CPU per append of one message to 0.41–0.48 of what it
 * was, and the wall time to 0.51–0.61 (two runs; with ten messages per statement
 * PostgreSQL's own choice already matched it). The plan does not depend on what the arrays
 * hold: an index probe per input row, the room rows locked in id order.
 * (`plan_cache_mode` came with PostgreSQL 12.)
 *
 * Why a pool of its own: the setting is per session, and the main pool also runs Prisma's
 * other queries, whose plans should stay PostgreSQL's choice. The append runs one statement
 * at a time per store (owner/append-batcher.ts), so two connections are plenty.
 *
 * Only with named prepared statements (a generic plan is kept per named statement); behind
 * a pooler in transaction mode they are off (DATABASE_PREPARED_STATEMENTS=false), and so is
 * this pool: the append then runs on the main pool, planned every time as before.
 */
/** A statement as node-postgres takes it: named (prepared) when `name` is given. */
export interface StatementConfig {
  text: string;
  values: unknown[];
  name?: string;
}

export interface AppendPool {
  /** Runs the statement on a connection that keeps generic plans. */
  query<R extends QueryResultRow>(config: StatementConfig): Promise<QueryResult<R>>;
  end(): Promise<void>;
}

export function createAppendPool({ connectionString, max = 2 }: { connectionString: string; max?: number }): AppendPool {
  const pool = new Pool({ connectionString, max });
  // Connections whose session has the setting. Set on a connection's first use, awaited
  // before the statement (node-postgres is moving away from queuing a query behind another
  // on one client, so not from the pool's synchronous 'connect' event).
  const generic = new WeakSet<PoolClient>();
  // An idle connection that breaks (a server restart) is dropped by the pool and a new one
  // made at the next append; should that fail too, its error is the one reported (retriable,
  // prisma-errors.ts). Without a listener, node-postgres's 'error' event would end the process.
  pool.on('error', () => undefined);
  return {
    async query<R extends QueryResultRow>(config: StatementConfig): Promise<QueryResult<R>> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        if (!generic.has(client)) {
          await client.query('SET plan_cache_mode = force_generic_plan');
          generic.add(client);
        }
        return await client.query<R>(config);
      } catch (error) {
        // A connection that failed mid-statement is not given back for reuse.
        if (!(error instanceof DatabaseError)) broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    end: () => pool.end(),
  };
}
