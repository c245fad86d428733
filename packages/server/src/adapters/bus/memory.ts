/**
 * In-process event bus: the embedded default for a single node. Handlers run synchronously in
 * publish order; a throwing handler is reported to `onError` and does not stop the others.
 */
import type { OutboxEvent } from '../../domain/events.js';
import type { EphemeralSignal, EventBus, EventHandler, SignalHandler } from '../../ports/bus.js';

export interface MemoryBusOptions {
  /** Called when a handler throws. @default rethrows asynchronously */
  onError?: (err: unknown, event: OutboxEvent | EphemeralSignal) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const handlers = new Set<EventHandler>();
  const signalHandlers = new Set<SignalHandler>();
  const onError =
    options.onError ??
    ((err: unknown) => {
      queueMicrotask(() => {
        throw err;
      });
    });
  let closed = false;

  function dispatch<T extends OutboxEvent | EphemeralSignal>(set: Set<(x: T) => void>, item: T): void {
    for (const handler of set) {
      try {
        handler(item);
      } catch (err) {
        onError(err, item);
      }
    }
  }

  return {
    name: 'memory',
    async publish(events) {
      if (closed) throw new Error('bus closed');
      for (const event of events) dispatch(handlers, event);
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    signal(signal) {
      if (!closed) dispatch(signalHandlers, signal);
    },
    onSignal(handler) {
      signalHandlers.add(handler);
      return () => signalHandlers.delete(handler);
    },
    async close() {
      closed = true;
      handlers.clear();
      signalHandlers.clear();
    },
  };
}
