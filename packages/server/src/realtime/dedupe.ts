/**
 * Drops events this node has already fanned out. The bus delivers at least once (a relay that
 * crashed before marking events published, or two nodes' relays racing, publish again), and the
 * outbox ids of one channel only grow, so an id not above the channel's last one is a repeat.
 *
 * Memory is one number per channel seen; channels quiet for `idleMs` are forgotten (a repeat
 * arriving later than that is not possible in practice: redeliveries follow within seconds).
 */
export class EventDedupe {
  private readonly last = new Map<string, { id: number; at: number }>();
  private lastSweep = 0;

  constructor(private readonly idleMs = 10 * 60_000) {}

  /** True when the event is new for its channel (and records it). */
  fresh(channelKey: string, id: number, now = Date.now()): boolean {
    const seen = this.last.get(channelKey);
    if (seen && id <= seen.id) return false;
    this.last.set(channelKey, { id, at: now });
    if (now - this.lastSweep > this.idleMs) this.sweep(now);
    return true;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, seen] of this.last) if (now - seen.at > this.idleMs) this.last.delete(key);
  }
}
