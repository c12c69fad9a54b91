import { waitFor } from '../support/infra';
import { restoreBrokers, startBrokers, stopBroker } from '../support/brokers';
import { countDeliveries, pause, startLoad, trackProgress, useFaultCluster, waitAllAcked } from '../support/fault-load';

/**
 * Two of three brokers down (RF 3, min.insync.replicas 2, acks=all; the nodes are also the
 * KRaft controllers, so there is no quorum either): nothing can be stored durably. Sends
 * must be refused with a retriable error frame in bounded time and never acked; once the
 * brokers return, the clients' re-sends (same clientMsgIds) are acked and delivered once.
 */
describe('two of three brokers down', () => {
  const { cluster } = useFaultCluster('quorum', { restore: restoreBrokers });

  it('sends are refused with UNAVAILABLE or TIMEOUT, never acked, and delivered once each after the brokers return', async () => {
    const c = cluster();
    const clients = await c.connectClients();
    const progress = trackProgress(clients);
    // Everything works before the outage.
    const warm = startLoad(c, clients, 'before', 500);
    await pause(2_000);
    await warm.stop();
    await waitAllAcked('before', c, clients, 120_000);
    const ackedBefore = clients.reduce((s, cl) => s + cl.acked.size, 0);

    const down = [2, 3];
    const outageIds = new Map(clients.map((cl) => [cl, [] as string[]]));
    let ackedDuringOutage: string[] = [];
    let refusalMs: number[] = [];
    let stoppedAt = 0;
    try {
      for (const n of down) await stopBroker(n, 'kill');
      stoppedAt = Date.now();
      for (let k = 0; k < 3; k++) {
        for (const cl of clients) {
          const room = c.rooms.find((r) => r.members.includes(cl.userId))!;
          const id = `outage-${cl.userId}-${k}`;
          outageIds.get(cl)!.push(id);
          cl.send(room.roomId, id, `outage ${k}`);
        }
        await pause(1_000);
      }
      // Bounded: every send made during the outage is refused, none is met with silence.
      await waitFor(
        'every outage send refused',
        () => clients.every((cl) => outageIds.get(cl)!.every((id) => cl.firstErrorAt.has(id) || cl.acked.has(id))),
        { timeoutMs: 90_000, intervalMs: 250 },
      ).catch(() => undefined);
      ackedDuringOutage = clients.flatMap((cl) => outageIds.get(cl)!.filter((id) => cl.acked.has(id)));
      refusalMs = clients.flatMap((cl) =>
        outageIds.get(cl)!.flatMap((id) => (cl.firstErrorAt.has(id) ? [cl.firstErrorAt.get(id)! - cl.firstSentAt.get(id)!] : [])),
      );
    } finally {
      await startBrokers(...down);
    }
    const outageMs = Date.now() - stoppedAt;
    const sent = [...outageIds.values()].flat().length;
    const codes = new Set(clients.flatMap((cl) => cl.errors.flatMap((e) => (e.type === 'error' ? [e.code] : []))));
    const unrefused = clients.flatMap((cl) => outageIds.get(cl)!.filter((id) => !cl.firstErrorAt.has(id) && !cl.acked.has(id)));
    try {
      await waitAllAcked('after', c, clients, 150_000);
    } finally {
      console.log(`quorum: progress\n${progress.stop()}`);
    }
    const counts = await countDeliveries('quorum', c, clients);
    const sorted = [...refusalMs].sort((a, b) => a - b);
    console.log(
      `quorum: outage ${outageMs} ms; sent during outage ${sent}, refused ${refusalMs.length} (codes ${[...codes].join(',') || 'none'}; first refusal after ${sorted[0] ?? '-'}..${sorted[sorted.length - 1] ?? '-'} ms, median ${sorted[Math.floor(sorted.length / 2)] ?? '-'} ms), ` +
        `not refused ${unrefused.length}, acked during outage ${ackedDuringOutage.length}, acked before ${ackedBefore}, acked after ${counts.acked - ackedBefore - ackedDuringOutage.length}, ` +
        `delivered ${counts.delivered}/${counts.expectedDeliveries}, lost ${counts.lost}, stored twice ${counts.restored}`,
    );
    expect(unrefused).toEqual([]);
    expect([...codes].filter((code) => code !== 'UNAVAILABLE' && code !== 'TIMEOUT')).toEqual([]);
    // With two of three replicas gone nothing is committed (min.insync.replicas 2), so nothing may be acked.
    expect(ackedDuringOutage).toEqual([]);
    expect(clients.every((cl) => outageIds.get(cl)!.every((id) => cl.acked.has(id)))).toBe(true);
    expect(counts.lost).toBe(0);
    expect(counts.restored).toBe(0);
    expect(counts.duplicates).toBe(0);
  }, 400_000);
});
