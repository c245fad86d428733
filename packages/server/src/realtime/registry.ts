/**
 * Indices over this node's live connections: by user (to close or update a user's sockets) and by
 * channel topic (to end subscriptions when membership changes, and to find whom the slow-consumer
 * sweep asks). uWS does the fan-out itself; these indices are never walked per message.
 */
import { type Connection, topics } from './connection.js';

export class ConnectionRegistry {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byTopic = new Map<string, Set<Connection>>();
  /** Topics with connections whose subscribe is still reading history. */
  private readonly pendingByTopic = new Map<string, Set<Connection>>();
  private count = 0;

  /** @param onIdle called when a channel topic loses its last subscribed or subscribing connection */
  constructor(private readonly onIdle: (topic: string) => void = () => undefined) {}

  get size(): number {
    return this.count;
  }

  add(conn: Connection): void {
    this.count++;
    addTo(this.byUser, `${conn.tenantId}/${conn.user.id}`, conn);
  }

  remove(conn: Connection): void {
    this.count--;
    removeFrom(this.byUser, `${conn.tenantId}/${conn.user.id}`, conn);
    for (const channelId of new Set([...conn.channels, ...conn.pending.keys()])) {
      const topic = topics.channel(conn.tenantId, channelId);
      removeFrom(this.byTopic, topic, conn);
      removeFrom(this.pendingByTopic, topic, conn);
      this.checkIdle(topic);
    }
  }

  userConnections(tenantId: string, userId: string): ReadonlySet<Connection> {
    return this.byUser.get(`${tenantId}/${userId}`) ?? EMPTY;
  }

  all(): IterableIterator<Connection> {
    const seen = this.byUser.values();
    return (function* () {
      for (const set of seen) yield* set;
    })();
  }

  subscribed(topic: string, conn: Connection): void {
    addTo(this.byTopic, topic, conn);
  }

  unsubscribed(topic: string, conn: Connection): void {
    removeFrom(this.byTopic, topic, conn);
    this.checkIdle(topic);
  }

  topicConnections(topic: string): ReadonlySet<Connection> {
    return this.byTopic.get(topic) ?? EMPTY;
  }

  pendingAdd(topic: string, conn: Connection): void {
    addTo(this.pendingByTopic, topic, conn);
  }

  pendingRemove(topic: string, conn: Connection): void {
    removeFrom(this.pendingByTopic, topic, conn);
    this.checkIdle(topic);
  }

  /** Connections still reading history for this topic (usually none: one map lookup). */
  pendingOn(topic: string): ReadonlySet<Connection> | undefined {
    return this.pendingByTopic.size === 0 ? undefined : this.pendingByTopic.get(topic);
  }

  /** Whether a connection of this node follows `topic`: subscribed, or still reading its history. */
  isFollowed(topic: string): boolean {
    return this.byTopic.has(topic) || this.pendingByTopic.has(topic);
  }

  private checkIdle(topic: string): void {
    if (!this.isFollowed(topic)) this.onIdle(topic);
  }
}

const EMPTY: ReadonlySet<Connection> = new Set();

function addTo(map: Map<string, Set<Connection>>, key: string, conn: Connection): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(conn);
}

function removeFrom(map: Map<string, Set<Connection>>, key: string, conn: Connection): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(conn);
  if (set.size === 0) map.delete(key);
}
