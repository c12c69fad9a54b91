import type { ServerFrame } from '../protocol/frames';
import type { Metrics } from '../observability/metrics';
import type { ClientConnection } from './client-connection';
import type { ResumeGate } from './resume-gate';

interface Entry {
  readonly connection: ClientConnection;
  readonly gate: ResumeGate;
}

/** The connections this gateway holds, by id, with each one's resume gate in front of it. */
export class ConnectionRegistry {
  private readonly byId = new Map<string, Entry>();

  constructor(private readonly metrics: Metrics) {}

  add(connection: ClientConnection, gate: ResumeGate): void {
    this.byId.set(connection.id, { connection, gate });
    this.metrics.connections.inc({ kind: connection.kind });
  }

  remove(connectionId: string): ClientConnection | undefined {
    const entry = this.byId.get(connectionId);
    if (entry === undefined) return undefined;
    this.byId.delete(connectionId);
    this.metrics.connections.dec({ kind: entry.connection.kind });
    return entry.connection;
  }

  get(connectionId: string): ClientConnection | undefined {
    return this.byId.get(connectionId)?.connection;
  }

  gate(connectionId: string): ResumeGate | undefined {
    return this.byId.get(connectionId)?.gate;
  }

  /** Hands a frame to the listed connections (through their resume gates); returns how many took it. */
  deliver(connectionIds: readonly string[], frame: ServerFrame): number {
    let n = 0;
    for (const id of connectionIds) {
      const entry = this.byId.get(id);
      if (entry !== undefined && entry.gate.push(frame)) n++;
    }
    return n;
  }

  all(): ClientConnection[] {
    return [...this.byId.values()].map((e) => e.connection);
  }

  size(): number {
    return this.byId.size;
  }
}
