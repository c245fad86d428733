/**
 * In-process event bus: the embedded default for a single node. Handlers run synchronously in
 * publish order; a throwing handler is logged by the caller-supplied `onError` and does not stop
 * the others.
 */
import type { OutboxEvent } from '../../domain/events.js';
import type { EventBus, EventHandler } from '../../ports/bus.js';

export interface MemoryBusOptions {
  /** Called when a handler throws. @default rethrows asynchronously */
  onError?: (err: unknown, event: OutboxEvent) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const handlers = new Set<EventHandler>();
  const onError =
    options.onError ??
    ((err: unknown) => {
      queueMicrotask(() => {
        throw err;
      });
    });
  let closed = false;
  return {
    name: 'memory',
    async publish(events) {
      if (closed) throw new Error('bus closed');
      for (const event of events) {
        for (const handler of handlers) {
          try {
            handler(event);
          } catch (err) {
            onError(err, event);
          }
        }
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async close() {
      closed = true;
      handlers.clear();
    },
  };
}
