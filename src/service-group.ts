import type { Service } from './ports/service';

/** A long-running part with a name, for the logs of a start or stop that failed. */
export interface NamedService extends Service {
  readonly name: string;
}

export interface ServiceGroupOptions {
  /** A part that failed to stop: the others still stop. Default: ignored. */
  onStopError?: (name: string, error: unknown) => void;
}

/**
 * Starts parts in the order given and stops them in reverse: a part starts once everything
 * it needs is up, and stops while everything it uses is still there. A start that fails
 * stops, in reverse, the parts already started, then rejects with that failure, so a
 * half-started instance holds nothing (no group membership, no listening port). A stop
 * that fails does not keep the rest from stopping.
 */
export function createServiceGroup(parts: readonly NamedService[], { onStopError = () => undefined }: ServiceGroupOptions = {}): Service {
  let started: NamedService[] = [];
  const stopStarted = async (): Promise<void> => {
    const toStop = started.reverse();
    started = [];
    for (const part of toStop) {
      try {
        await part.stop();
      } catch (error) {
        onStopError(part.name, error);
      }
    }
  };
  return {
    async start() {
      for (const part of parts) {
        try {
          await part.start();
        } catch (error) {
          await stopStarted();
          throw error;
        }
        started.push(part);
      }
    },
    stop: stopStarted,
  };
}

/** A part from a start and a stop function (either may be omitted). */
export const service = (name: string, { start = async () => undefined, stop = async () => undefined }: Partial<Service>): NamedService => ({
  name,
  start,
  stop,
});
