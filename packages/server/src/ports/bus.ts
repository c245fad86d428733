/**
 * The event bus port: carries events between the parts of Natter and between nodes.
 *
 * - Durable events come from the store's outbox (see `services/outbox-relay.ts`): delivery is at
 *   least once, in outbox-id order per channel; consumers drop ids they have seen.
 * - Ephemeral signals (typing, presence changes) are broadcast best-effort to every node and are
 *   never stored: losing one costs a stale indicator, never a message.
 *
 * Adapters: `adapters/bus/memory.ts` (embedded default). Every adapter passes
 * `test/contracts/bus.contract.ts`.
 */
import type { OutboxEvent } from '../domain/events.js';

export type EventHandler = (event: OutboxEvent) => void;

/** A group consumer's handler: the event counts as consumed once the promise resolves. */
export type GroupHandler = (event: OutboxEvent) => Promise<void>;

/** A group consumer's batch handler: the events (in order) count as consumed once the promise resolves. */
export type GroupBatchHandler = (events: OutboxEvent[]) => Promise<void>;

/** A signal that no store keeps: typing, presence changes, a tenant's deletion. */
export type EphemeralSignal =
  | { event: 'typing.start' | 'typing.stop'; tenantId: string; channelId: string; userId: string }
  | { event: 'presence.changed'; tenantId: string; userId: string; online: boolean }
  /** Every node closes the tenant's connections (4003). */
  | { event: 'tenant.deleted'; tenantId: string };

export type SignalHandler = (signal: EphemeralSignal) => void;

export interface EventBus {
  readonly name: string;
  /** Resolves once the broker has accepted every event (durably, where the broker can). */
  publish(events: OutboxEvent[]): Promise<void>;
  /**
   * Every node: registers a handler that sees every event published from now on (realtime
   * fan-out). Returns the function that removes it.
   */
  subscribe(handler: EventHandler): () => void;
  /**
   * Work sharing: among all nodes consuming with the same `group`, each event is handled by one,
   * at least once, in order per channel; an event whose handler rejects is retried. Used by search
   * indexing and plugins. Resolves once consuming has started; the returned function stops it.
   */
  consume(group: string, handler: GroupHandler): Promise<() => Promise<void>>;
  /**
   * Optional: {@link consume} with the events handed over in batches (what arrived while the
   * previous batch was handled), in order, so a consumer can apply many in one transaction. A
   * rejected batch is retried whole, so the handler must be idempotent. Where an adapter lacks
   * it, consumers use `consume`.
   */
  consumeBatches?(group: string, handler: GroupBatchHandler): Promise<() => Promise<void>>;
  /** Sends a signal to every node (this one included). */
  signal(signal: EphemeralSignal): void;
  onSignal(handler: SignalHandler): () => void;
  close(): Promise<void>;
}
