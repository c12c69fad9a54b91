/**
 * A minimal typed event emitter (no Node `events`, so it runs in browsers too). A listener
 * that throws does not stop the others, nor the connection: the error is reported to
 * `onListenerError` (default: console.error).
 */
export interface TypedEvents<M extends object> {
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof M>(type: K, listener: (event: M[K]) => void): () => void;
  /** Removes a listener added with `on`. */
  off<K extends keyof M>(type: K, listener: (event: M[K]) => void): void;
}

export interface Emitter<M extends object> extends TypedEvents<M> {
  emit<K extends keyof M>(type: K, event: M[K]): void;
}

export function createEmitter<M extends object>({
  onListenerError = (error: unknown) => console.error(error),
}: { /** Default console.error. */ onListenerError?: (error: unknown) => void } = {}): Emitter<M> {
  const listeners = new Map<keyof M, Set<(event: never) => void>>();
  const off = <K extends keyof M>(type: K, listener: (event: M[K]) => void): void => {
    listeners.get(type)?.delete(listener);
  };
  return {
    on(type, listener) {
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => off(type, listener);
    },
    off,
    emit(type, event) {
      const set = listeners.get(type);
      if (set === undefined) return;
      for (const listener of [...set] as ((event: M[typeof type]) => void)[]) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}
