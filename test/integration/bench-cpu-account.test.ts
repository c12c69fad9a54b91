import { Client } from 'pg';
import { postgresPids, procTimes, startCpuReading } from '../../scripts/bench/cpu-account';
import { DATABASE_URL, requirePostgres, waitFor } from '../support/infra';

/**
 * The bench's CPU account against the real PostgreSQL on this machine: a backend that
 * worked before a phase and closes during it is billed to the phase only for its time
 * since the phase began, though the postmaster's reaped time grows by all of it when it
 * exits. Before the fix the account billed it all, and PostgreSQL's cores swung between
 * the phases of one load (docs/benchmarks.md, eighth round). Needs PostgreSQL on this
 * machine (its processes are read from /proc); unreachable, the suite fails.
 */
jest.setTimeout(60_000);

beforeAll(() => requirePostgres());

/** A process's utime + stime, ms; undefined once it is gone. */
const cpuMs = async (pid: number): Promise<number | undefined> => (await procTimes(pid))?.self;

it('bills a PostgreSQL backend that exits during a phase only for its time in the phase', async () => {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  expect(await postgresPids()).toContain(pid); // the group the bench reads holds it
  // Work enough that a wrong account shows: at least 300 ms of the backend's CPU.
  await waitFor(
    'the backend to have used 300 ms of CPU',
    async () => {
      await client.query('SELECT count(*) FROM generate_series(1, 2000000)');
      return ((await cpuMs(pid)) ?? 0) >= 300;
    },
    { intervalMs: 0 },
  );
  const usedBefore = (await cpuMs(pid))!;

  const reading = await startCpuReading({ postgres: postgresPids });
  await client.end();
  // Gone from /proc once the postmaster has reaped it, which adds its whole time to the
  // postmaster's reaped children.
  await waitFor('the backend to exit', async () => (await cpuMs(pid)) === undefined, { timeoutMs: 10_000 });
  const account = await reading.stop();
  const billedMs = account.cores['postgres']! * account.wallS * 1000;
  // The phase's own work (the backend's exit, the other processes' idling) is far below it.
  expect(billedMs).toBeLessThan(usedBefore / 2);
});
