/**
 * Drops events this node has already fanned out. The bus delivers at least once (a relay that
 * crashed before marking events published, or two nodes' relays racing, publish again).
 *
 * Exact ids, not "highest id seen": with several nodes on one store, an event can become visible
 * in the outbox after one with a higher id (its node allocated the id first, stored it later), and
 * it must still be delivered. The newest `capacity` ids are remembered; a repeat arriving after
 * that many newer events is delivered again, which clients absorb (they key messages by id).
 */
export class EventDedupe {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  /** True when this event id is new for its channel (and records it). */
  fresh(channelKey: string, id: number): boolean {
    const key = `${channelKey}#${id}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.capacity) {
      // Sets iterate in insertion order: the first entry is the oldest.
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}
