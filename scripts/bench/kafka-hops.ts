/**
 * How many Kafka hops (produce → consume, acks=all) a chat message crosses on its way from
 * the sender's socket to a member's socket in this checkout's design. The benchmark reports
 * our send→deliver latency as a ratio to hops × the Kafka floor's p50.
 *
 * Set it here when the design changes (it is read from the checkout being measured, so a
 * `--baseline` checkout without this file counts as the 3-hop design it had):
 * 3 = `chat.send` → sender's owner, `deliver` → member's owner, `relay` → member's gateway
 *     (up to efc3b19);
 * 2 = `chat.send` → sender's owner, `relay`/`relay.batch` → the member's gateway, which the
 *     session directory names (docs/architecture.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const KAFKA_HOPS = 2;

/** The hops of the checkout at `root` (this file there, or 3 for checkouts from before it). */
export async function kafkaHopsOf(root: string): Promise<number> {
  const file = join(root, 'scripts', 'bench', 'kafka-hops.ts');
  if (!existsSync(file)) return 3;
  const mod: unknown = await import(file);
  const hops = typeof mod === 'object' && mod !== null && 'KAFKA_HOPS' in mod ? mod.KAFKA_HOPS : undefined;
  if (typeof hops !== 'number' || !(hops >= 1)) throw new Error(`${file}: KAFKA_HOPS is not a number ≥ 1`);
  return hops;
}
