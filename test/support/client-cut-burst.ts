import type { Message } from '../../client/src/protocol';
import type { ClientUser } from './client-harness';
import type { CutProxy } from './cut-proxy';
import { waitFor } from './infra';
import type { ChatClient } from '../../client/src/chat-client';

/** What a burst with network cuts came to, for the test to judge. */
export interface CutBurstReport {
  readonly total: number;
  /** Sends that rejected (none expected). */
  readonly failures: readonly unknown[];
  /** The acked messages, one per send. */
  readonly stored: readonly Message[];
  /** Sends unacked at the first cut: proof the cut hit mid-burst. */
  readonly pendingAtCut: number;
  /** Per user, the seqs its connection delivered, in delivery order. */
  readonly deliveredSeqs: ReadonlyMap<string, readonly number[]>;
  /** Per user, distinct message ids delivered. */
  readonly deliveredIds: ReadonlyMap<string, number>;
  /** The room's messages read back over REST. */
  readonly history: readonly Message[];
}

/**
 * Every user sends `perUser` messages to `roomId` at once; the network (the proxy) is cut
 * (or frozen) once some acks are in and again after more, and every send is awaited (bounded). Then it
 * waits (bounded) until every member has delivered `total` messages and reads the room back.
 */
export async function runCutBurst({
  users,
  roomId,
  perUser,
  proxy,
  how = 'cut',
  timeoutMs = 90_000,
  history: historyApi = users[0]!.client.api,
}: {
  users: readonly ClientUser[];
  roomId: string;
  perUser: number;
  proxy: CutProxy;
  /** `cut`: connections reset; `freeze`: they go silent and stay open. Default cut. */
  how?: 'cut' | 'freeze';
  /** Default 90 s. */
  timeoutMs?: number;
  /**
   * Where the room's history is read afterwards. Default the first user's REST client; give
   * one that reaches the server directly when the users' go through the proxy: a frozen
   * proxy keeps their pooled keep-alive connections frozen, and the read would hang on one.
   */
  history?: ChatClient['api'];
}): Promise<CutBurstReport> {
  const breakNetwork = (): number => (how === 'cut' ? proxy.cut() : proxy.freeze());
  const total = users.length * perUser;
  let settled = 0;
  const failures: unknown[] = [];
  const sends = users.flatMap((u) =>
    Array.from({ length: perUser }, (_, i) =>
      u.connection.send(roomId, `${u.userId} ${i}`).then(
        (m) => {
          settled++;
          return m;
        },
        (error: unknown) => {
          settled++;
          failures.push(error);
          return undefined;
        },
      ),
    ),
  );
  await waitFor('some acks', () => settled >= Math.min(10, total / 4), { timeoutMs: 30_000, intervalMs: 5 });
  const pendingAtCut = users.reduce((n, u) => n + u.connection.pendingSends(), 0);
  const settledAtCut = settled;
  breakNetwork();
  await waitFor('all reconnected', () => users.every((u) => u.connection.state() === 'open'), { timeoutMs: 30_000, intervalMs: 10 });
  await waitFor('more acks', () => settled >= Math.min(total, settledAtCut + 10), { timeoutMs: 30_000, intervalMs: 5 });
  breakNetwork();
  const outcomes = await Promise.race([
    Promise.all(sends),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`sends unsettled: ${settled}/${total}`)), timeoutMs).unref()),
  ]);
  await waitFor('every member has every message', () => users.every((u) => u.delivered.length >= total), {
    timeoutMs: 30_000,
    intervalMs: 20,
  }).catch(() => undefined);
  const history: Message[] = [];
  for (let after = 0; ;) {
    const page = await historyApi.history(roomId, { afterSeq: after, limit: 200 });
    if (page.length === 0) break;
    history.push(...page);
    after = page[page.length - 1]!.seq;
  }
  return {
    total,
    failures,
    stored: outcomes.filter((m): m is Message => m !== undefined),
    pendingAtCut,
    deliveredSeqs: new Map(users.map((u) => [u.userId, u.delivered.map((m) => m.seq)])),
    deliveredIds: new Map(users.map((u) => [u.userId, new Set(u.delivered.map((m) => m.id)).size])),
    history,
  };
}

/** The checks every cut-burst test makes: once, in order, nothing lost or doubled. */
export function expectNothingLostOrDoubled(report: CutBurstReport, users: readonly ClientUser[]): void {
  const { total } = report;
  const oneToTotal = Array.from({ length: total }, (_, i) => i + 1);
  expect(report.failures).toEqual([]);
  expect(report.pendingAtCut).toBeGreaterThan(0);
  expect(report.stored).toHaveLength(total);
  expect(new Set(report.stored.map((m) => m.id)).size).toBe(total);
  expect(report.stored.map((m) => m.seq).sort((a, b) => a - b)).toEqual(oneToTotal);
  for (const u of users) {
    expect(u.states.some((s) => s.state === 'reconnecting')).toBe(true);
    expect({ user: u.userId, seqs: report.deliveredSeqs.get(u.userId) }).toEqual({ user: u.userId, seqs: oneToTotal });
    expect(report.deliveredIds.get(u.userId)).toBe(total);
  }
  expect(report.history).toHaveLength(total);
  expect(new Set(report.history.map((m) => `${m.senderId}/${m.clientMsgId}`)).size).toBe(total);
}
