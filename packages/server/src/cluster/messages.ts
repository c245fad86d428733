/**
 * What the primary and its workers say to each other over the Node IPC channel of
 * `child_process.fork` (see `docs/self-hosting.md`, "Using every core").
 *
 * Every IPC message is an ARRAY of these: each side queues what it has to say during one turn of
 * the event loop and sends it as one message (see `link.ts`), so a relay batch of 500 events, or
 * the rate-limit checks of 50 frames, cost one serialization and one wake-up, not one each. The
 * channel keeps order, so a worker sees events in the order the hub published them, and a reply
 * after the events that were sent before it.
 */
import type { OutboxEvent } from '../domain/events.js';
import type { EphemeralSignal } from '../ports/bus.js';
import type { RateDecision, RateRule } from '../ports/rate-limit.js';

/** Requests a worker makes; each gets one `res` with the same id. */
export type Request =
  | { op: 'publish'; events: OutboxEvent[] }
  | { op: 'consume'; group: string; consumer: number }
  | { op: 'unconsume'; consumer: number }
  | { op: 'presence.connect' | 'presence.disconnect'; tenantId: string; userId: string; connectionId: string }
  | { op: 'presence.online'; tenantId: string; userIds: string[] }
  | { op: 'limit.take'; key: string; rule: RateRule }
  | { op: 'relay.drain' };

/** What each request resolves with. */
export interface Replies {
  publish: null;
  consume: null;
  unconsume: null;
  'presence.connect': boolean;
  'presence.disconnect': boolean;
  'presence.online': string[];
  'limit.take': RateDecision;
  'relay.drain': null;
}

/** Worker → primary. */
export type ToPrimary =
  | ({ t: 'req'; id: number } & Request)
  /** Something was written: run the outbox relay soon (coalesced). */
  | { t: 'kick' }
  | { t: 'signal'; signal: EphemeralSignal }
  /** A group event was handled (`error` set: it failed and the hub retries it). */
  | { t: 'group.done'; id: number; error?: string }
  /** The worker's server listens on `port`. */
  | { t: 'ready'; port: number };

/** Primary → worker. */
export type ToWorker =
  | { t: 'res'; id: number; value?: unknown; error?: string }
  | { t: 'event'; event: OutboxEvent }
  | { t: 'signal'; signal: EphemeralSignal }
  /** Handle `event` for consumer `consumer` of a group, then answer `group.done`. */
  | { t: 'group'; id: number; consumer: number; event: OutboxEvent };

/**
 * The side of an IPC channel this process holds: `process` in a worker, the `ChildProcess` in the
 * primary. Both have this shape.
 */
export interface IpcEndpoint {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
  readonly connected?: boolean;
}
