/**
 * The shape every long-running part shares. `start` resolves when the part is ready to
 * serve; `stop` resolves when it has released everything it holds, and is safe to call
 * twice or before `start`. app.ts starts parts in dependency order and stops them in reverse.
 */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a readiness probe reports about one dependency. */
export interface HealthCheck {
  readonly ok: boolean;
  readonly detail?: string;
}
