import { inboxTopicOf } from '../../src/protocol/topics';
import { waitFor } from '../support/infra';
import { logContext } from '../support/processes';
import { busiestLeader, restoreBrokers, startBrokers, stopBroker, waitLeadersMoved } from '../support/brokers';
import { countDeliveries, pause, startLoad, trackProgress, useFaultCluster, waitAllAcked } from '../support/fault-load';

/**
 * Loss of a partition-leader broker under load, on the real 3-broker cluster (RF 3,
 * min.insync.replicas 2): the broker leading the most request and inbox partitions is
 * SIGKILLed while clients send, and restarted. Counted: acked, delivered, lost, duplicates.
 */
describe('broker loss under load', () => {
  const { topics, cluster } = useFaultCluster('leader', { restore: restoreBrokers });

  it('SIGKILL the busiest partition leader: every acked message reaches every member, every client ends up ready', async () => {
    const c = cluster();
    const watched = [topics.login, topics.chat, ...c.instances.map((i) => inboxTopicOf(topics, i.name))];
    const clients = await c.connectClients();
    const load = startLoad(c, clients, 'leader', 1_000);
    const progress = trackProgress(clients);
    await pause(3_000);
    const victim = await busiestLeader(watched);
    console.log(`leader: killing broker ${victim.node}, leader of ${victim.leads.length} partitions (${victim.leads.join(' ')})`);
    const killedAt = Date.now();
    try {
      await stopBroker(victim.node, 'kill');
      await waitLeadersMoved(watched, victim.node);
      console.log(`leader: every partition has a leader other than broker ${victim.node} after ${Date.now() - killedAt} ms`);
      // Load on two brokers for a while, then bring the third back under load.
      await pause(5_000);
    } finally {
      await startBrokers(victim.node);
    }
    console.log(`leader: broker ${victim.node} back after ${Date.now() - killedAt} ms`);
    await pause(3_000);
    const rounds = await load.stop();
    try {
      await waitAllAcked('leader', c, clients, 180_000);
    } finally {
      console.log(`leader: progress\n${progress.stop()}`);
    }
    await waitFor('every client ready', () => clients.every((cl) => cl.isReady()), { timeoutMs: 30_000, intervalMs: 200 }).catch(
      () => undefined,
    );
    const notReady = clients.filter((cl) => !cl.isReady()).map((cl) => cl.describe());
    // Before counting: countDeliveries closes the clients.
    const closes = clients.flatMap((cl) => cl.closes).join(',') || 'none';
    const counts = await countDeliveries('leader', c, clients);
    console.log(
      `leader: sent ${rounds * clients.length}, retriable errors ${clients.reduce((s, cl) => s + cl.errors.length, 0)}, socket closes during the run ${closes}`,
    );
    if (counts.lost > 0 || notReady.length > 0) console.log(`${notReady.join('\n')}\n${logContext(c.instances)}`);
    expect(notReady).toEqual([]);
    expect(counts.acked).toBe(rounds * clients.length);
    expect(counts.lost).toBe(0);
    expect(counts.restored).toBe(0);
    expect(counts.duplicates).toBe(0);
  }, 240_000);
});
