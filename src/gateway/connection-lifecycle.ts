import type { TokenClaims } from '../auth/token-service';
import type { Message } from '../protocol/message';
import { CloseCodes } from '../protocol/close-codes';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ClientConnection } from './client-connection';
import type { ConnectionRegistry } from './connection-registry';
import { ResumeGate } from './resume-gate';
import type { SessionAnnouncer } from './session-announcer';

export interface OpenedConnection {
  readonly gate: ResumeGate;
  /** Resolves when the owner has registered the session (the `ready` frame went out). */
  readonly ready: Promise<void>;
  /** Call once when the transport closes. */
  closed(): void;
}

/**
 * What every kind of connection (WebSocket, SSE) goes through: registered here, announced
 * to the user's owner, closed with 4001 when its token expires, and announced closed.
 */
export function createConnectionLifecycle({
  registry,
  announcer,
  fetchGap,
  gapTimeoutMs = 2_000,
  metrics,
  now = Date.now,
  logger,
}: {
  registry: ConnectionRegistry;
  announcer: SessionAnnouncer;
  /**
   * Reads a room's messages with seq in [from, to] from the archive, to fill an overdue gap
   * of `userId`'s connection; rejects when the user is no longer a member of the room.
   */
  fetchGap?: (userId: string, roomId: string, from: number, to: number) => Promise<Message[]>;
  /**
   * How long a connection waits for a missing earlier seq before reading it from the
   * archive. Default 2 s: a seq is missing only while its delivery is in flight.
   */
  gapTimeoutMs?: number;
  /** Where send→deliver latency is observed; default: not observed. */
  metrics?: Metrics;
  /** Clock in ms for that latency. Default Date.now. */
  now?: () => number;
  logger: Logger;
}) {
  const log = logger.child({ component: 'connections' });
  return {
    open(connection: ClientConnection, claims: TokenClaims): OpenedConnection {
      let markReady!: () => void;
      const ready = new Promise<void>((resolve) => (markReady = resolve));
      const gate = new ResumeGate(
        (frame, live) => {
          if (frame.type === 'ready') markReady();
          const sent = connection.send(frame);
          // Measured here, where every transport's frames leave the gateway in order. The ts
          // is the storing database's clock: this machine's, or NTP-close on a cluster.
          if (sent && live && frame.type === 'message' && metrics !== undefined) {
            const stored = Date.parse(frame.message.ts);
            if (Number.isFinite(stored)) metrics.deliveryLatency.observe(Math.max(0, now() - stored) / 1000);
          }
          return sent;
        },
        {
          gapTimeoutMs,
          ...(fetchGap === undefined ? {} : { fetchGap: (roomId, from, to) => fetchGap(connection.userId, roomId, from, to) }),
        },
      );
      registry.add(connection, gate);
      // The token's lifetime bounds the connection's: an expired token closes it (4001).
      const ttlMs = Math.max(0, claims.exp * 1000 - Date.now());
      const expiry = setTimeout(() => connection.close(CloseCodes.TOKEN_INVALID, 'token expired'), Math.min(ttlMs, 2 ** 31 - 1));
      expiry.unref();
      announcer.opened(connection.userId, connection.id).catch((error: unknown) => {
        log.warn(
          { err: error instanceof Error ? error.message : String(error), userId: connection.userId },
          'could not register the session; closing',
        );
        connection.close(CloseCodes.SERVER_ERROR, 'session could not be registered; reconnect');
      });
      let done = false;
      return {
        gate,
        ready,
        closed() {
          if (done) return;
          done = true;
          clearTimeout(expiry);
          gate.close();
          registry.remove(connection.id);
          announcer.closed(connection.userId, connection.id).catch((error: unknown) => {
            // The re-announce stops for it, so the owner expires it after the session TTL.
            log.warn(
              { err: error instanceof Error ? error.message : String(error), userId: connection.userId },
              'could not announce a closed session',
            );
          });
        },
      };
    },
  };
}

export type ConnectionLifecycle = ReturnType<typeof createConnectionLifecycle>;
