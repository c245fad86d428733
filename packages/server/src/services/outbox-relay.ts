/**
 * Moves events from the store's outbox to the bus. Runs right after every write (kicked, coalesced
 * into one pass per tick) and on a timer as a safety net, so a bus outage delays events and never
 * drops them: an event leaves the outbox only after the bus accepted it.
 *
 * A kick runs the pass at the end of the current tick (`process.nextTick`), not on the next turn
 * of the event loop: the turn in between would first read every socket with data waiting, and
 * with thousands of busy connections that put several milliseconds, sometimes tens, between a
 * message being stored and being fanned out.
 *
 * Published events are deleted once older than `retainMs`, every `pruneEveryMs`, a thousand at a
 * time with the event loop free in between, so the outbox holds about `retainMs` of traffic
 * rather than every event since the store was created.
 */
import type { EventBus } from '../ports/bus.js';
import type { OutboxStore } from '../ports/store.js';

export interface OutboxRelayOptions {
  outbox: OutboxStore;
  bus: EventBus;
  /** Events per batch. @default 500 */
  batchSize?: number;
  /** Safety-net poll interval in ms; also the retry delay after a bus failure. @default 1000 */
  pollMs?: number;
  /** How long a published event stays in the outbox (NATTER_OUTBOX_RETENTION is in seconds). @default 3_600_000 */
  retainMs?: number;
  /** How often published events older than `retainMs` are deleted. @default 60_000 */
  pruneEveryMs?: number;
  /** The clock the retention is measured with. @default Date.now */
  now?: () => number;
  onError?: (err: unknown) => void;
}

export interface OutboxRelay {
  /** Asks for a pass soon (coalesced). */
  kick(): void;
  /** Runs passes until the outbox is empty (or the bus fails). Resolves when done. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Published events deleted per write when pruning. */
const PRUNE_BATCH = 1000;

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { outbox, bus } = options;
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  let running: Promise<void> | null = null;
  let again = false;
  let scheduled = false;
  let closed = false;

  async function pass(): Promise<void> {
    for (;;) {
      const events = await outbox.pending(batchSize);
      if (events.length === 0) return;
      await bus.publish(events);
      await outbox.markPublished(events.map((e) => e.id));
      if (events.length < batchSize) return;
    }
  }

  function run(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await pass();
        } while (again && !closed);
      } catch (err) {
        options.onError?.(err);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  const timer = setInterval(() => void run(), pollMs);
  timer.unref();

  const retainMs = options.retainMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  let pruning: Promise<void> | null = null;
  async function prune(): Promise<void> {
    const before = new Date(now() - retainMs).toISOString();
    while (!closed && (await outbox.prune(before, PRUNE_BATCH)) === PRUNE_BATCH) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const pruneTimer = setInterval(() => {
    pruning ??= prune()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        pruning = null;
      });
  }, options.pruneEveryMs ?? 60_000);
  pruneTimer.unref();

  return {
    kick() {
      if (scheduled || closed) return;
      scheduled = true;
      process.nextTick(() => {
        scheduled = false;
        void run();
      });
    },
    async drain() {
      await run();
      while (running) await running;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      clearInterval(pruneTimer);
      if (running) await running;
      if (pruning) await pruning;
    },
  };
}
