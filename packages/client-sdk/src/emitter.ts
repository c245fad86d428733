/**
 * A tiny typed event emitter. A throwing listener does not stop the others: its error goes to the
 * `onListenerError` callback (the client's logger).
 */

/** A listener of event data `T`. */
export type Listener<T> = (data: T) => void;

/** Emits events of map `E` (event name → data). */
export class Emitter<E> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  /** Adds a listener; returns a function removing it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  /** Calls the listeners of `event` in the order they were added. */
  emit<K extends keyof E>(event: K, data: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(data);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
