/**
 * One bus from two: durable events through one adapter (Kafka), ephemeral signals through another
 * (Redis pub/sub, lower latency). Closing closes both.
 */
import type { EventBus } from '../../ports/bus.js';

export function combineBuses(events: EventBus, signals: EventBus): EventBus {
  return {
    name: `${events.name}+${signals.name}`,
    publish: (batch) => events.publish(batch),
    subscribe: (handler) => events.subscribe(handler),
    consume: (group, handler) => events.consume(group, handler),
    ...(events.consumeBatches ? { consumeBatches: events.consumeBatches.bind(events) } : {}),
    signal: (signal) => signals.signal(signal),
    onSignal: (handler) => signals.onSignal(handler),
    async close() {
      await Promise.all([events.close(), signals.close()]);
    },
  };
}
