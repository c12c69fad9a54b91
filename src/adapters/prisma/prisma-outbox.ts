import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { ValidationError } from '../../domain/errors';
import { roomChangeEntries, type RoomChange } from '../../domain/room-changes';
import type { Outbox, OutboxEntry } from '../../ports/outbox';

/** An outbox row as the claiming query returns it. */
interface OutboxRow {
  readonly id: string;
  readonly aggregate_id: string;
  readonly record_type: string;
  readonly key: string;
  readonly payload: unknown;
  readonly created_at: Date | string;
}

function toOutboxEntry(row: OutboxRow): OutboxEntry {
  // Drivers differ in what a raw query gives for jsonb and timestamptz: pg parses them,
  // other adapters may hand over text.
  const payload: unknown = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
  return {
    id: row.id,
    aggregateId: row.aggregate_id,
    recordType: row.record_type,
    key: row.key,
    payload,
    createdAt: new Date(row.created_at).getTime(),
  };
}

/** Writes a room change's outbox rows inside the transaction that makes the change. */
export async function writeRoomChange(tx: Prisma.TransactionClient, change: RoomChange): Promise<void> {
  const entries = roomChangeEntries(change, randomUUID);
  await tx.outboxRecord.createMany({
    data: entries.map((e) => ({ id: e.id, aggregateId: e.aggregateId, recordType: e.recordType, key: e.key, payload: e.payload })),
  });
}

/**
 * The outbox on the `outbox` table. A relay pass claims rows with FOR UPDATE SKIP LOCKED
 * in one transaction that spans the produce, so two relays never produce one row twice
 * at once, and a relay that dies gives its rows back with its connection.
 */
export function createPrismaOutbox({
  prisma,
  run,
  transaction,
  relayTimeoutMs,
}: {
  prisma: PrismaClient;
  /** Runs a query, its failure mapped to a ChatError. */
  run: <T>(what: string, op: () => Promise<T>) => Promise<T>;
  /** Runs a transaction with the store's limits, its failure mapped to a ChatError. */
  transaction: <T>(what: string, body: (tx: Prisma.TransactionClient) => Promise<T>, timeoutMs?: number) => Promise<T>;
  /** How long a relay pass may hold its claimed rows (it must outlast the bus's own retries). */
  relayTimeoutMs: number;
}): Outbox {
  return {
    async relay(limit, publish) {
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`outbox relay limit must be a positive integer, got ${limit}`);
      return transaction(
        'relay outbox',
        async (tx) => {
          // The row locks are held until the transaction ends, i.e. across the produce: a
          // second relay skips these rows instead of producing them again, and if this
          // process dies the locks go with its connection and the rows are offered again.
          const rows = await tx.$queryRaw<OutboxRow[]>`
          SELECT id, aggregate_id, record_type, key, payload, created_at FROM outbox
          ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
          if (rows.length === 0) return 0;
          const entries = rows.map(toOutboxEntry);
          await publish(entries);
          await tx.outboxRecord.deleteMany({ where: { id: { in: entries.map((e) => e.id) } } });
          return entries.length;
        },
        relayTimeoutMs,
      );
    },
    async backlog() {
      const { _count, _min } = await run('outbox backlog', () =>
        prisma.outboxRecord.aggregate({ _count: { _all: true }, _min: { createdAt: true } }),
      );
      return { pending: _count._all, oldestCreatedAt: _min.createdAt?.getTime() };
    },
  };
}
