/**
 * A worker's connection to the primary: one per IPC endpoint, shared by the IPC adapters of the
 * process (bus, presence, rate limits, relay). It batches what is sent during one event-loop turn
 * into one IPC message, matches replies to requests, and hands pushed events and signals to whoever
 * listens, synchronously and in arrival order, and group deliveries to their consumer.
 */
import type { OutboxEvent } from '../domain/events.js';
import type { IpcEndpoint, Replies, Request, ToPrimary, ToWorker } from './messages.js';

/** Sends `message` batches through `endpoint`, one IPC message per event-loop turn. */
export class Outbox<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly endpoint: IpcEndpoint) {}

  push(message: T): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    // A closed channel drops the batch: the other side is gone and cannot answer anyway.
    if (this.endpoint.connected !== false) this.endpoint.send?.(batch);
  }
}

/** Raised by requests that cannot be answered because the primary is gone. */
export class PrimaryGoneError extends Error {
  override readonly name = 'PrimaryGoneError';
  constructor() {
    super('the primary process is gone (IPC channel closed)');
  }
}

export interface PrimaryLink {
  request<R extends Request>(request: R): Promise<Replies[R['op']]>;
  post(message: ToPrimary): void;
  /** Listens to what the primary pushes (events, signals, group deliveries). */
  listen(listener: (message: ToWorker) => void): () => void;
  /** Registers a group consumer's handler: the hub's deliveries for the returned id go to it. */
  addConsumer(handler: (event: OutboxEvent) => Promise<void>): number;
  removeConsumer(consumer: number): boolean;
}

const links = new WeakMap<IpcEndpoint, PrimaryLink>();

/** The link over `endpoint` (created on first use; every adapter of the process shares it). */
export function linkTo(endpoint: IpcEndpoint): PrimaryLink {
  let link = links.get(endpoint);
  if (!link) {
    link = createLink(endpoint);
    links.set(endpoint, link);
  }
  return link;
}

function createLink(endpoint: IpcEndpoint): PrimaryLink {
  const out = new Outbox<ToPrimary>(endpoint);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(message: ToWorker) => void>();
  let nextId = 1;
  const consumers = new Map<number, (event: OutboxEvent) => Promise<void>>();
  let nextConsumer = 1;

  async function handleGroup(id: number, consumer: number, event: OutboxEvent): Promise<void> {
    const handler = consumers.get(consumer);
    try {
      // Stopped meanwhile: the hub hands the event to another consumer.
      if (!handler) throw new Error('consumer stopped');
      await handler(event);
      out.push({ t: 'group.done', id });
    } catch (err) {
      out.push({ t: 'group.done', id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  endpoint.on('message', (batch) => {
    if (!Array.isArray(batch)) return;
    for (const message of batch as ToWorker[]) {
      if (message.t === 'res') {
        const p = pending.get(message.id);
        if (!p) continue;
        pending.delete(message.id);
        if (message.error !== undefined) p.reject(new Error(message.error));
        else p.resolve(message.value ?? null);
        continue;
      }
      if (message.t === 'group') {
        void handleGroup(message.id, message.consumer, message.event);
        continue;
      }
      for (const listener of listeners) listener(message);
    }
  });
  endpoint.on('disconnect', () => {
    for (const p of pending.values()) p.reject(new PrimaryGoneError());
    pending.clear();
  });

  return {
    request(request) {
      if (endpoint.connected === false) return Promise.reject(new PrimaryGoneError());
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        out.push({ t: 'req', id, ...request });
      });
    },
    post: (message) => out.push(message),
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addConsumer(handler) {
      const id = nextConsumer++;
      consumers.set(id, handler);
      return id;
    },
    removeConsumer: (consumer) => consumers.delete(consumer),
  };
}
