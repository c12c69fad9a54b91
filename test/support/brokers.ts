import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_BROKERS, waitFor } from './infra';

/**
 * Stopping and starting the brokers of the test cluster (scripts/infra/infra.sh), for the
 * broker fault tests. The cluster driven is the one TEST_KAFKA_BROKERS points at: its port
 * base is that list's first port (infra.sh node N listens on base + N - 1), unless
 * TEST_KAFKA_PORT_BASE says otherwise; TEST_INFRA_DIR names its infra directory (default
 * the repository's .infra, where `npm test` starts it). Node ids are infra.sh's 1..3.
 */
const ROOT = join(__dirname, '..', '..');
const firstPort = Number(KAFKA_BROKERS[0]!.split(':').pop());
const infraEnv = (): Record<string, string> => ({
  KAFKA_PORT_BASE: process.env['TEST_KAFKA_PORT_BASE'] ?? String(firstPort),
  ...(process.env['TEST_INFRA_DIR'] === undefined ? {} : { INFRA_DIR: process.env['TEST_INFRA_DIR'] }),
  // A broker test never takes over another cluster's ports.
  INFRA_TAKEOVER: '0',
});

/** Runs `infra.sh <args>`; rejects with its output when it fails or outlives `timeoutMs`. */
export function infra(args: readonly string[], timeoutMs = 150_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(ROOT, 'scripts', 'infra', 'infra.sh'), ...args],
      { cwd: ROOT, env: { ...process.env, ...infraEnv() }, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`infra.sh ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr.slice(-4000)}`));
        else resolve(`${stdout}${stderr}`);
      },
    );
  });
}

/**
 * Runs Kafka's own `kafka-configs` tool (kafka.admin.ConfigCommand, from the jars infra.sh
 * fetched) against the test cluster: kafkajs cannot alter the cluster-wide broker default
 * (it refuses an empty broker name).
 */
export function kafkaConfigCommand(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const infraDir = process.env['TEST_INFRA_DIR'] ?? join(ROOT, '.infra');
  const java = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', join(infraDir, 'kafka', 'libs', '*')];
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      [...java, 'kafka.admin.ConfigCommand', '--bootstrap-server', KAFKA_BROKERS.join(','), ...args],
      { timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`kafka-configs ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr.slice(-4000)}`));
        else resolve(`${stdout}${stderr}`);
      },
    );
  });
}

export const stopBroker = (node: number, how: 'kill' | 'term' = 'kill'): Promise<string> =>
  infra(['stop-broker', String(node), ...(how === 'kill' ? ['--kill'] : [])]);
/** Starts the given brokers together (two brokers down means no KRaft quorum: one alone cannot rejoin) and waits until they are back in the ISRs. */
export const startBrokers = (...nodes: number[]): Promise<string> => infra(['start-broker', ...nodes.map(String)]);

/** Every broker running again; for afterAll, so later test files find three. Never throws. */
export async function restoreBrokers(): Promise<void> {
  await startBrokers(1, 2, 3).catch((error: unknown) => console.error(`could not restore the brokers: ${String(error)}`));
}

/** Partition → leader node id of each topic (-1: no leader). */
export async function partitionLeaders(topics: readonly string[]): Promise<Map<string, number[]>> {
  const admin = new Kafka({ clientId: 'test-leaders', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  await admin.connect();
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
    return new Map(meta.map((t) => [t.name, [...t.partitions].sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader)]));
  } finally {
    await admin.disconnect();
  }
}

/** The broker that leads the most partitions of `topics`, with what it leads. */
export async function busiestLeader(topics: readonly string[]): Promise<{ node: number; leads: string[] }> {
  const leaders = await partitionLeaders(topics);
  const byNode = new Map<number, string[]>();
  for (const [topic, parts] of leaders) parts.forEach((leader, p) => byNode.set(leader, [...(byNode.get(leader) ?? []), `${topic}[${p}]`]));
  const [node, leads] = [...byNode].filter(([n]) => n >= 0).sort((a, b) => b[1].length - a[1].length)[0]!;
  return { node, leads };
}

/** Waits (bounded) until no partition of `topics` is led by `node` and every one has a leader. */
export function waitLeadersMoved(topics: readonly string[], node: number, timeoutMs = 30_000): Promise<boolean> {
  return waitFor(
    `leaders to move off broker ${node}`,
    async () => [...(await partitionLeaders(topics)).values()].flat().every((l) => l >= 0 && l !== node),
    { timeoutMs, intervalMs: 500 },
  );
}
