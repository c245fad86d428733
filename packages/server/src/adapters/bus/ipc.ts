/**
 * The bus of a worker process (`NATTER_WORKERS` > 1 on the embedded defaults): events and signals
 * go through the primary's hub (`cluster/hub.ts`), which hands every event to every worker in
 * the order the outbox relay published them, and each group event to one consumer among all
 * workers. Nothing crosses machines: for several machines use Kafka or Redis.
 */

import { linkTo } from '../../cluster/link.js';
import type { IpcEndpoint } from '../../cluster/messages.js';
import type { EventBus, EventHandler, SignalHandler } from '../../ports/bus.js';

export interface IpcBusOptions {
  /** The channel to the primary: `process` in a worker. */
  endpoint: IpcEndpoint;
  /** Called when a subscriber throws. @default rethrows asynchronously */
  onError?: (err: unknown) => void;
}

export function createIpcBus(options: IpcBusOptions): EventBus {
  const link = linkTo(options.endpoint);
  const handlers = new Set<EventHandler>();
  const signalHandlers = new Set<SignalHandler>();
  const consumers = new Set<number>();
  const onError =
    options.onError ??
    ((err: unknown) =>
      queueMicrotask(() => {
        throw err;
      }));
  let closed = false;

  function each<T>(set: Set<(x: T) => void>, item: T): void {
    for (const handler of set) {
      try {
        handler(item);
      } catch (err) {
        onError(err);
      }
    }
  }

  const unlisten = link.listen((message) => {
    if (closed) return;
    switch (message.t) {
      case 'event':
        each(handlers, message.event);
        return;
      case 'signal':
        each(signalHandlers, message.signal);
        return;
    }
  });

  return {
    name: 'ipc',
    async publish(events) {
      if (closed) throw new Error('bus closed');
      if (events.length > 0) await link.request({ op: 'publish', events });
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    async consume(group, handler) {
      const consumer = link.addConsumer(handler);
      consumers.add(consumer);
      await link.request({ op: 'consume', group, consumer });
      return async () => {
        if (!consumers.delete(consumer)) return;
        link.removeConsumer(consumer);
        await link.request({ op: 'unconsume', consumer }).catch(() => {});
      };
    },
    signal(signal) {
      if (!closed) link.post({ t: 'signal', signal });
    },
    onSignal(handler) {
      signalHandlers.add(handler);
      return () => signalHandlers.delete(handler);
    },
    async close() {
      await Promise.allSettled(
        [...consumers].map((consumer) => {
          link.removeConsumer(consumer);
          return link.request({ op: 'unconsume', consumer });
        }),
      );
      closed = true;
      consumers.clear();
      handlers.clear();
      signalHandlers.clear();
      unlisten();
    },
  };
}
