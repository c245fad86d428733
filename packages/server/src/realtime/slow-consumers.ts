/**
 * Which connections the slow-consumer sweep asks for their queued bytes.
 *
 * A connection that stops reading is closed with 4008 once uWS holds more than the soft limit for
 * it; uWS itself only drops a socket, without a close frame, at the much higher hard limit. The
 * sweep used to ask every connection of the node, four times a second: with 10,000 connections
 * that was one native call each, 3 ms in one piece every 250 ms, and messages arriving meanwhile
 * waited behind it (the small-channels benchmark's p99).
 *
 * A queue only grows when something is sent, so each sweep asks the connections that may have been
 * sent something since the last one: the subscribers of every channel topic published to, and the
 * connections that sent a frame (their replies) or got a frame of their own (a moderation notice).
 * What is sent some other way (presence changes, a subscription's buffered events flushed after its
 * sweep) is found by a rolling pass over all connections, a slice per sweep, so that every
 * connection is asked at least once every `slices` sweeps.
 */
import type { Connection } from './connection.js';
import type { ConnectionRegistry } from './registry.js';

export class SlowConsumerSweep {
  private readonly topics = new Set<string>();
  private readonly connections = new Set<Connection>();
  private rolling: Iterator<Connection> | null = null;

  /** @param slices sweeps per rolling pass over every connection */
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly slices: number,
  ) {}

  /** Something was published to this channel topic. */
  published(topic: string): void {
    this.topics.add(topic);
  }

  /** Something was (or is about to be) sent to this connection alone. */
  touched(conn: Connection): void {
    this.connections.add(conn);
  }

  /**
   * Calls `check` for every connection that may have been sent something since the last sweep,
   * and for the next slice of the rolling pass. `check` may close the connection; none is passed
   * twice in one sweep.
   */
  sweep(check: (conn: Connection) => void): void {
    const seen = new Set<Connection>();
    const once = (conn: Connection) => {
      if (seen.has(conn)) return;
      seen.add(conn);
      check(conn);
    };
    for (const topic of this.topics) for (const conn of this.registry.topicConnections(topic)) once(conn);
    this.topics.clear();
    for (const conn of this.connections) once(conn);
    this.connections.clear();
    for (let n = Math.ceil(this.registry.size / this.slices); n > 0; n--) {
      this.rolling ??= this.registry.all();
      const next = this.rolling.next();
      if (next.done) {
        this.rolling = null;
        break;
      }
      once(next.value);
    }
  }
}
