/**
 * The event bus port: carries outbox events from the node that stored them to every consumer
 * (realtime fan-out on every node, search indexing, plugins).
 *
 * Delivery is at least once; consumers drop events whose id they have seen. Events of one channel
 * are delivered in outbox-id order.
 *
 * Adapters: `adapters/bus/memory.ts` (embedded default). Every adapter passes
 * `test/contracts/bus.contract.ts`.
 */
import type { OutboxEvent } from '../domain/events.js';

export type EventHandler = (event: OutboxEvent) => void;

export interface EventBus {
  readonly name: string;
  /** Resolves once the broker has accepted every event (durably, where the broker can). */
  publish(events: OutboxEvent[]): Promise<void>;
  /** Registers a handler; returns the function that removes it. */
  subscribe(handler: EventHandler): () => void;
  close(): Promise<void>;
}
