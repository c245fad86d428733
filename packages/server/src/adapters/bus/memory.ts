/**
 * In-process event bus: the embedded default for a single node. Handlers run synchronously in
 * publish order; a throwing handler is reported to `onError` and does not stop the others.
 */
import type { OutboxEvent } from '../../domain/events.js';
import type { EphemeralSignal, EventBus, EventHandler, GroupHandler, SignalHandler } from '../../ports/bus.js';

const RETRIES = 5;

async function handleWithRetry(
  handler: GroupHandler,
  event: OutboxEvent,
  onError: (err: unknown, event: OutboxEvent) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(event);
      return;
    } catch (err) {
      if (attempt >= RETRIES) {
        onError(err, event);
        return;
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

export interface MemoryBusOptions {
  /** Called when a handler throws. @default rethrows asynchronously */
  onError?: (err: unknown, event: OutboxEvent | EphemeralSignal) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const handlers = new Set<EventHandler>();
  const groups = new Map<string, { handler: GroupHandler; chain: Promise<void> }>();
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
      for (const group of groups.values()) {
        for (const event of events) {
          // One process is the whole group: handle each event once, in order, retrying failures.
          group.chain = group.chain.then(() => handleWithRetry(group.handler, event, onError));
        }
      }
    },
    async consume(group, handler) {
      if (groups.has(group)) throw new Error(`group ${group} is already consumed`);
      const entry = { handler, chain: Promise.resolve() };
      groups.set(group, entry);
      return async () => {
        groups.delete(group);
        await entry.chain;
      };
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
      await Promise.all([...groups.values()].map((g) => g.chain));
      groups.clear();
      handlers.clear();
      signalHandlers.clear();
    },
  };
}
