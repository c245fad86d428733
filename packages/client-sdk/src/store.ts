/**
 * A minimal external store: an immutable snapshot and change listeners. It fits React's
 * `useSyncExternalStore`, Lit reactive controllers, Svelte stores or plain callbacks.
 */

/** Read side of a store: what applications get. */
export interface ReadableStore<T> {
  /** The current snapshot. Never mutated: a change replaces it (new identity). */
  getSnapshot(): T;
  /** Calls `listener` after every change; returns a function removing it. */
  subscribe(listener: () => void): () => void;
}

/** @internal A store the SDK writes to. */
export interface WritableStore<T> extends ReadableStore<T> {
  /** Replaces the snapshot with `fn(snapshot)`; listeners run unless it returned the same object. */
  update(fn: (snapshot: T) => T): void;
}

/** @internal */
export function createStore<T>(initial: T, onListenerError: (err: unknown) => void): WritableStore<T> {
  let snapshot = initial;
  const listeners = new Set<() => void>();
  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    update(fn) {
      const next = fn(snapshot);
      if (next === snapshot) return;
      snapshot = next;
      for (const listener of [...listeners]) {
        try {
          listener();
        } catch (err) {
          onListenerError(err);
        }
      }
    },
  };
}
