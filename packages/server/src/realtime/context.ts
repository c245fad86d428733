/**
 * What the gateway's parts share.
 */

import type { TemplatedApp } from 'uWebSockets.js';
import type { FastifyBaseLogger } from 'fastify';
import type { OutboxEvent } from '../domain/events.js';
import type { EventBus } from '../ports/bus.js';
import type { PresenceStore } from '../ports/presence.js';
import type { Store } from '../ports/store.js';
import type { ServiceDeps } from '../services/context.js';
import type { Connection } from './connection.js';
import type { EventDedupe } from './dedupe.js';
import type { ConnectionRegistry } from './registry.js';
import type { ReorderBuffers } from './reorder.js';
import type { SlowConsumerSweep } from './slow-consumers.js';

export interface RealtimeConfig {
  /** Largest frame a client may send, in bytes; larger closes with 1009. */
  maxFrameBytes: number;
  /** Frames per second per connection (burst: twice that). */
  framesPerSecond: number;
  /** Seconds of silence before a connection is considered dead (pings are sent automatically). */
  idleTimeout: number;
  /** Most messages replayed on subscribe with `since`. */
  replayMax: number;
  /** Bytes queued for a connection beyond which it is closed as a slow consumer (4008). */
  maxBufferedBytes: number;
  /**
   * Milliseconds after the last `typing.start` at which the server sends `typing.stop` itself.
   * Read at each start, so tests may shorten it on a running server.
   * @default 6000 (TYPING_EXPIRE_MS)
   */
  typingExpireMs?: number;
  /**
   * Milliseconds a hole in a channel's seqs may stay open (events of several nodes arriving out
   * of order) before the gateway reads the missing messages from the store.
   * @default 150
   * @see docs/engines.md (multi-node guarantees)
   */
  reorderGapMs?: number;
  /**
   * Events a channel's reorder buffer holds at most (per kind); beyond that, missing messages
   * are read from the store at once.
   * @default 1000
   */
  reorderMaxHeld?: number;
}

export interface GatewayContext {
  app: TemplatedApp;
  store: Store;
  bus: EventBus;
  presence: PresenceStore;
  services: ServiceDeps;
  registry: ConnectionRegistry;
  config: RealtimeConfig;
  log: FastifyBaseLogger;
  /** Drops events already fanned out (the bus delivers at least once). */
  dedupe: EventDedupe;
  /** Per-channel reorder buffers (channels with subscribers on this node), keyed by topic. */
  reorder: ReorderBuffers<OutboxEvent>;
  /** Told what was sent where, so the slow-consumer sweep knows whom to ask. */
  slowConsumers: SlowConsumerSweep;
}

/**
 * Replies queued by {@link sendReply} until the end of the tick, per connection. Each flush starts
 * a new map instead of clearing this one: V8 links a cleared (or rehashed) table to the one that
 * replaces it, so once a table had reached the old generation, each next table was kept alive
 * through a scavenge by the dead one before it and promoted in turn, one table per tick. In the
 * small-channels benchmark that was over half of what every scavenge copied (bench/README).
 */
let queuedReplies = new Map<Connection, string[]>();
let repliesScheduled = false;

function flushQueued(conn: Connection, frames: string[]): void {
  const ws = conn.ws;
  if (!ws) return;
  if (frames.length === 1) ws.send(frames[0] as string);
  else
    ws.cork(() => {
      for (const f of frames) ws.send(f);
    });
}

function flushReplies(): void {
  repliesScheduled = false;
  const queued = queuedReplies;
  queuedReplies = new Map();
  for (const [conn, frames] of queued) flushQueued(conn, frames);
}

/** Sends one frame to one connection, if it is still open (after the replies queued for it). */
export function sendFrame(conn: Connection, frame: unknown): void {
  const queued = queuedReplies.get(conn);
  if (queued) {
    queuedReplies.delete(conn);
    flushQueued(conn, queued);
  }
  conn.ws?.send(JSON.stringify(frame));
}

/**
 * Sends a reply at the end of this tick, with the other replies queued for the connection in one
 * write. A write batch settles hundreds of frames at once, a few per connection, and each send
 * outside a uWS callback is a system call of its own. The end of the tick comes before any timer
 * or I/O callback, so a reply still goes out before the events of the next relay pass; a frame
 * sent with {@link sendFrame} meanwhile goes after the replies queued before it.
 */
export function sendReply(conn: Connection, frame: unknown): void {
  const text = JSON.stringify(frame);
  const queued = queuedReplies.get(conn);
  if (queued) queued.push(text);
  else queuedReplies.set(conn, [text]);
  if (!repliesScheduled) {
    repliesScheduled = true;
    process.nextTick(flushReplies);
  }
}
