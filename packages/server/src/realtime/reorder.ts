/**
 * Per-channel reorder buffer: puts a channel's events back in sequence order before fan-out.
 *
 * With several nodes writing one channel, each node's outbox relay publishes its own events and
 * the bus keeps order per publisher only, so `message.new` of seq 8 can reach a gateway before
 * seq 7. A buffer per channel (one per node, only for channels this node has subscribers for)
 * delivers seq N only after N-1, holds later ones, and when a hole is still open after `gapMs`
 * reads the missing seqs from the store (which has every seq the bus will ever carry, and more
 * when a node died between its write and its outbox insert). On one node events arrive in order
 * and every event passes straight through, synchronously.
 *
 * Three kinds of items:
 * - `seq`: a `message.new`. Delivered once, in seq order; a seq already delivered is dropped
 *   (it came from the store first, or its subscription replayed it).
 * - `after`: an event about something with a seq (an edit, a deletion or a reaction of a message,
 *   a read mark): delivered only once that seq has been, so it never overtakes its message.
 * - neither: other channel events (members, channel changes).
 * Items without a seq also go after every message that arrived before them, and before the
 * messages that arrived after them and come later in seq order, so that e.g. a message sent after
 * a member was removed never reaches that member.
 *
 * Memory is bounded: at most `maxHeld` seq items per channel (a seq beyond that is not kept: the
 * store has it, and it is read when its turn comes), and `maxHeld` other items (beyond that the
 * oldest goes out of order rather than waiting).
 *
 * @see docs/protocol.md (Guarantees) and docs/engines.md (multi-node guarantees)
 */

/** One event as the buffer sees it. */
export interface Ordered<T> {
  /** The seq it carries (`message.new`): delivered in seq order, once. */
  seq?: number;
  /** The seq that must have been delivered first (events about a message, read marks). */
  after?: number;
  value: T;
}

export interface ReorderOptions<T> {
  /** Milliseconds a hole may stay open before the missing seqs are read from the store. */
  gapMs: number;
  /** Items held at most, per kind, per channel. */
  maxHeld: number;
  /** Hands one item on (to the sockets). Called in order; never throws into the buffer. */
  deliver(value: T): void;
  /**
   * The messages with seq in (after, upTo], ascending, as items to deliver (the store's history).
   * May return fewer (its page size); a missing seq is skipped after a few empty reads.
   */
  fetch(after: number, upTo: number): Promise<{ seq: number; value: T }[]>;
  onError(err: unknown, what: string): void;
}

/** Seqs read from the store in one go. */
const FETCH_MAX = 500;
/** Reads that found nothing after which a hole is given up (the seq does not exist any more). */
const EMPTY_READS_MAX = 3;

interface Queued<T> {
  value: T;
  /** The seq that must have been delivered before it. */
  need: number;
}

export class ReorderBuffer<T> {
  /** Highest seq delivered; null until the first subscriber says where it starts. */
  private delivered: number | null = null;
  /** Highest seq known to exist (held, needed by a held item, or read by a subscriber). */
  private known = 0;
  /** Highest seq that has arrived (other items go after it). */
  private arrived = 0;
  private readonly bySeq = new Map<number, T>();
  private readonly queue: Queued<T>[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** `delivered` when the timer was set: the hole it waits on. */
  private timerFor = 0;
  private fetching = false;
  /** A seq was not kept (maxHeld): the store is read again right after a read. */
  private overflowed = false;
  private emptyReads = 0;
  private waiters: { seq: number; done: (caughtUp: boolean) => void }[] = [];
  private closed = false;

  constructor(private readonly options: ReorderOptions<T>) {}

  /** The highest seq delivered (null before {@link join}). */
  get position(): number | null {
    return this.delivered;
  }

  /** Items held back. */
  get size(): number {
    return this.bySeq.size + this.queue.length;
  }

  push(item: Ordered<T>): void {
    if (this.closed) return;
    const { seq } = item;
    const d = this.delivered;
    if (seq !== undefined) {
      if (d !== null && seq <= d) return;
      if (seq > this.arrived) this.arrived = seq;
      if (d !== null && seq === d + 1 && this.bySeq.size === 0 && this.queue.length === 0) {
        this.delivered = seq;
        this.hand(item.value);
        this.settle();
        return;
      }
      if (seq > this.known) this.known = seq;
      if (this.bySeq.size < this.options.maxHeld) {
        this.bySeq.set(seq, item.value);
      } else {
        this.overflowed = true;
        this.fill(); // full: read from the store now rather than wait
      }
    } else {
      // After what it is about, and after every message that arrived before it.
      const need = Math.max(item.after ?? 0, this.arrived);
      if (d !== null && need <= d && this.queue.length === 0) {
        this.hand(item.value);
        return;
      }
      if (need > this.known) this.known = need;
      this.queue.push({ value: item.value, need });
      if (this.queue.length > this.options.maxHeld) this.hand((this.queue.shift() as Queued<T>).value);
    }
    this.release();
  }

  /**
   * A subscriber starts after `seq` (the store held 1..seq when its subscribe read it). The first
   * one sets where the buffer starts (seqs up to there are dropped); a later one further ahead
   * than what was delivered opens a hole, filled from the store if the bus does not fill it.
   */
  join(seq: number): void {
    if (this.closed) return;
    if (seq > this.known) this.known = seq;
    if (this.delivered === null) {
      this.delivered = seq;
      for (const s of this.bySeq.keys()) if (s <= seq) this.bySeq.delete(s);
    }
    this.release();
  }

  /** Resolves true once `seq` has been delivered; false after `timeoutMs` or when closed first. */
  caughtUp(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.delivered !== null && this.delivered >= seq) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        seq,
        done: (caughtUp: boolean) => {
          clearTimeout(timer);
          resolve(caughtUp);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.push(waiter);
    });
  }

  /** Drops everything held (no subscriber left). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.bySeq.clear();
    this.queue.length = 0;
    for (const w of this.waiters.splice(0)) w.done(false);
  }

  private hand(value: T): void {
    try {
      this.options.deliver(value);
    } catch (err) {
      this.options.onError(err, 'deliver');
    }
  }

  /** Delivers whatever is now in order, then resolves waiters and (re)arms the hole timer. */
  private release(): void {
    if (this.delivered === null) return;
    while (!this.closed) {
      const head = this.queue[0];
      if (head && head.need <= this.delivered) {
        this.queue.shift();
        this.hand(head.value);
        continue;
      }
      const next = this.bySeq.get(this.delivered + 1);
      if (next === undefined && !this.bySeq.has(this.delivered + 1)) break;
      this.bySeq.delete(this.delivered + 1);
      this.delivered += 1;
      this.hand(next as T);
    }
    this.settle();
  }

  private settle(): void {
    const d = this.delivered;
    if (d === null || this.closed) return;
    if (this.waiters.length > 0) {
      const done = this.waiters.filter((w) => w.seq <= d);
      if (done.length > 0) {
        this.waiters = this.waiters.filter((w) => w.seq > d);
        for (const w of done) w.done(true);
      }
    }
    if (this.known <= d) {
      this.emptyReads = 0;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      return;
    }
    // A hole: wait `gapMs` for the bus to fill it, restarting the wait when it made progress.
    if (this.timer && this.timerFor === d) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerFor = d;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fill();
    }, this.options.gapMs);
    this.timer.unref();
  }

  /** Reads the missing seqs from the store and delivers them, with what was held, in order. */
  private fill(): void {
    const from = this.delivered;
    if (this.fetching || this.closed || from === null || this.known <= from) return;
    this.fetching = true;
    const upTo = Math.min(this.known, from + FETCH_MAX);
    const paged = upTo < this.known;
    this.options.fetch(from, upTo).then(
      (items) => {
        this.fetching = false;
        if (this.closed || this.delivered === null) return;
        const before = this.delivered;
        for (const item of items) {
          if (this.closed) return;
          if (item.seq <= this.delivered || item.seq > upTo) continue;
          // A seq the store does not have (anymore) would block the channel: go past it.
          if (item.seq > this.delivered + 1) this.skipTo(item.seq - 1);
          // What the bus brought is preferred: the event as it was when the message was stored.
          if (!this.bySeq.has(item.seq)) this.bySeq.set(item.seq, item.value);
          this.release();
        }
        if (this.closed) return;
        const progressed = this.delivered > before;
        if (progressed) this.emptyReads = 0;
        else if (this.delivered < upTo && ++this.emptyReads >= EMPTY_READS_MAX) {
          this.options.onError(new Error(`seqs ${this.delivered + 1}..${upTo} not found in the store`), 'fetch');
          this.skipTo(this.firstHeldSeq(upTo) - 1);
          this.emptyReads = 0;
        }
        this.release();
        // The hole was longer than a page, or seqs were not kept: read on at once.
        if ((paged || this.overflowed) && progressed && this.known > this.delivered) {
          this.overflowed = false;
          this.fill();
        }
      },
      (err: unknown) => {
        this.fetching = false;
        this.options.onError(err, 'fetch');
        this.settle(); // retried after the same wait
      },
    );
  }

  private firstHeldSeq(fallback: number): number {
    let first = fallback + 1;
    for (const s of this.bySeq.keys()) if (s < first) first = s;
    return first;
  }

  /** Gives up seqs up to `seq` (the store does not have them). */
  private skipTo(seq: number): void {
    if (this.delivered === null || seq <= this.delivered) return;
    this.delivered = seq;
    for (const s of this.bySeq.keys()) if (s <= seq) this.bySeq.delete(s);
  }
}

/** The buffers of the channels this node has subscribers for, by key (the channel's topic). */
export class ReorderBuffers<T> {
  private readonly buffers = new Map<string, ReorderBuffer<T>>();

  get size(): number {
    return this.buffers.size;
  }

  /** The channel's buffer, created on first use (a subscribe). */
  open(key: string, create: () => ReorderBuffer<T>): ReorderBuffer<T> {
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = create();
      this.buffers.set(key, buffer);
    }
    return buffer;
  }

  get(key: string): ReorderBuffer<T> | undefined {
    return this.buffers.get(key);
  }

  /** Forgets a channel (its last subscriber left): what it held is dropped. */
  forget(key: string): void {
    this.buffers.get(key)?.close();
    this.buffers.delete(key);
  }

  close(): void {
    for (const buffer of this.buffers.values()) buffer.close();
    this.buffers.clear();
  }
}
