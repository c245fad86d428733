/**
 * In-process event bus: the embedded default for a single node. Handlers run synchronously in
 * publish order; a throwing handler is reported to `onError` and does not stop the others.
 */
import type { OutboxEvent } from '../../domain/events.js';
import type { EphemeralSignal, EventBus, EventHandler, GroupBatchHandler, SignalHandler } from '../../ports/bus.js';

const RETRIES = 5;
/** Most events handed to a batch consumer at once. */
const MAX_BATCH = 1000;

/** Runs `handle` until it succeeds, at most RETRIES times with backoff, then reports the failure. */
async function withRetry(handle: () => Promise<void>, report: (err: unknown) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handle();
      return;
    } catch (err) {
      if (attempt >= RETRIES) {
        report(err);
        return;
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

/** A consumer group of this process: its events wait in `queue` while the previous batch is handled. */
interface Group {
  handle: GroupBatchHandler;
  queue: OutboxEvent[];
  busy: boolean;
  chain: Promise<void>;
}

export interface MemoryBusOptions {
  /** Called when a handler throws. @default rethrows asynchronously */
  onError?: (err: unknown, event: OutboxEvent | EphemeralSignal) => void;
}

export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  const handlers = new Set<EventHandler>();
  const groups = new Map<string, Group>();
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

  /** Hands the group what has queued up, batch after batch, until its queue is empty. */
  function pump(group: Group): void {
    group.busy = true;
    group.chain = (async () => {
      // Not inside publish: the handler runs after the publisher got its answer, as with a broker.
      await null;
      while (group.queue.length > 0) await group.handle(group.queue.splice(0, MAX_BATCH));
      group.busy = false;
    })();
  }

  function addGroup(name: string, handle: GroupBatchHandler): () => Promise<void> {
    if (groups.has(name)) throw new Error(`group ${name} is already consumed`);
    const entry: Group = { handle, queue: [], busy: false, chain: Promise.resolve() };
    groups.set(name, entry);
    return async () => {
      groups.delete(name);
      await entry.chain;
    };
  }

  return {
    name: 'memory',
    async publish(events) {
      if (closed) throw new Error('bus closed');
      for (const event of events) dispatch(handlers, event);
      // One process is the whole group: handle each event once, in order, retrying failures.
      for (const group of groups.values()) {
        for (const event of events) group.queue.push(event);
        if (!group.busy) pump(group);
      }
    },
    async consume(group, handler) {
      // Event by event, each retried on its own.
      return addGroup(group, async (events) => {
        for (const event of events) {
          await withRetry(
            () => handler(event),
            (err) => onError(err, event),
          );
        }
      });
    },
    async consumeBatches(group, handler) {
      return addGroup(group, (events) =>
        withRetry(
          () => handler(events),
          (err) => {
            for (const event of events) onError(err, event);
          },
        ),
      );
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
