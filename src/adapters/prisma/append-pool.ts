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
 * hold. (`plan_cache_mode` came with PostgreSQL 12.)
 *
 * Why its sessions also set `enable_seqscan = off`, and why a connection is renewed: a
 * generic plan is made once per connection, from the tables' sizes at that moment, and kept
 * for the connection's life. Made on an empty `messages` table (a new deployment, a bench's
 * fresh database) it read the whole table for every append, twice; the table then grew
 * under it, and so did every append's cost, for as long as the connection lived
 * (PostgreSQL's CPU per append 0.70–0.83 ms in the first 2,000 messages, 4.8–4.9 ms at
 * 20,000: scripts/bench/append-growth.ts, docs/benchmarks.md, seventh round). With
 * autovacuum on, an ANALYZE of the table invalidates the plan; with it off (these
 * machines), or behind an autovacuum that lags, nothing does. Every access the append makes
 * is by key (a message by id or by sender and client id, a membership, a room), so an
 * index probe is right at any size and a sequential scan only saves anything on a table of
 * a few pages: the sessions rule sequential scans out. What that setting cannot fix (a
 * subplan that hashes a small `rooms` whole, say) the renewal does: a connection is closed
 * after `renewAfter` statements or `maxAgeSeconds`, whichever comes first, and its
 * replacement plans the statement again from the sizes of now. The age limit is for a
 * connection used too seldom to reach `renewAfter` (the pool's second: the batcher runs one
 * statement at a time) but often enough never to sit idle for node-postgres's 10 s idle
 * timeout, which closes it otherwise. The cost: a connection and a planning per thousand
 * appends or five minutes.
 *
 * Why a pool of its own: the settings are per session, and the main pool also runs Prisma's
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

/** What an append-pool session sets before its first statement (see above). */
const SESSION_SETTINGS = 'SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off';

export function createAppendPool({
  connectionString,
  max = 2,
  renewAfter = 1_000,
  maxAgeSeconds = 300,
}: {
  connectionString: string;
  /** Connections, at most. Default 2. */
  max?: number;
  /** Statements a connection runs before it is closed and replaced (and its plan made again). Default 1000. */
  renewAfter?: number;
  /** Seconds a connection lives at most, for the same reason. Default 300. */
  maxAgeSeconds?: number;
}): AppendPool {
  if (!Number.isInteger(renewAfter) || renewAfter < 1) throw new Error('createAppendPool: renewAfter must be a positive integer');
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1) throw new Error('createAppendPool: maxAgeSeconds must be a positive integer');
  // node-postgres: a client checked out `maxUses` times, or older than `maxLifetimeSeconds`,
  // is closed when released (an idle one when it reaches that age).
  const pool = new Pool({ connectionString, max, maxUses: renewAfter, maxLifetimeSeconds: maxAgeSeconds });
  // Connections whose session has the settings. Set on a connection's first use, awaited
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
          await client.query(SESSION_SETTINGS);
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
