/**
 * Appends events to the outbox, one round at a time per store, so that outbox ids increase in
 * insertion order within a store (consumers drop redeliveries by id).
 *
 * A round takes every queued event (up to `maxRound`), allocates their ids with ONE
 * `findOneAndUpdate({ _id: 'outbox' }, { $inc: { n: k } }, { returnDocument: 'after' })` on the
 * `counters` collection (ids `n-k+1 .. n`), and inserts them with one ordered `insertMany`.
 * Events submitted while a round runs wait for the next one (group commit).
 *
 * - The `_id` index is the final arbiter: on FerretDB v1 the counter's `$inc` is not atomic across
 *   nodes, so two nodes can be handed the same ids (or the counter can step back). An insert
 *   refused as a duplicate is checked: if the stored event carries this allocation's `writer`
 *   token it is ours (a retried round whose first attempt landed), otherwise the remaining events
 *   get new ids. On MongoDB the `$inc` is atomic and this never happens.
 * - A failing round is retried with backoff, reusing its ids. The callers are rejected after
 *   `rejectAfter` failed attempts, but the events stay queued and are retried until they are
 *   stored or the store is closed: the data they describe was already written.
 * - Except events no retry can store, which must not block the ones behind them: a write whose
 *   payload is too large for a document is refused at once, and a write whose event the server
 *   refuses with a write error other than a duplicate key is rejected and dropped (reported to
 *   `onError`; events of it already inserted stay).
 */
import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { EventInput } from '../../../domain/events.js';
import type { CounterDoc, OutboxDoc } from './documents.js';
import { duplicateAt, isDuplicateKey, refusedAt } from './errors.js';

export interface OutboxWriterOptions {
  /** Events per round. @default 1000 */
  maxRound?: number;
  /** Failed attempts after which the callers of a round are rejected. @default 3 */
  rejectAfter?: number;
  /** Called with errors of rounds that will be retried. */
  onError?: (err: unknown) => void;
}

interface Entry {
  docs: PendingDoc[];
  left: number;
  attempts: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface PendingDoc {
  entry: Entry;
  doc: Omit<OutboxDoc, '_id' | 'writer'>;
  id: number | null;
  writer: string;
  inserted: boolean;
}

const COUNTER_ID = 'outbox';
/** Payload size (JSON characters) refused at once: MongoDB documents are at most 16 MiB of BSON. */
const MAX_PAYLOAD = 15 * 1024 * 1024;

/** Thrown by a round when the server refused one event for good. */
class RefusedEvent extends Error {
  constructor(
    readonly entry: Entry,
    override readonly cause: unknown,
  ) {
    super('the outbox refused an event', { cause });
  }
}
/** Id clashes with other nodes tolerated in one round before it counts as failed. */
const MAX_CLASHES = 50;

export class OutboxWriter {
  private readonly queue: Entry[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  private allocations = 0;
  private readonly token = randomBytes(6).toString('base64url');
  private wake: (() => void) | null = null;
  private readonly maxRound: number;
  private readonly rejectAfter: number;

  constructor(
    private readonly outbox: Collection<OutboxDoc>,
    private readonly counters: Collection<CounterDoc>,
    private readonly options: OutboxWriterOptions = {},
  ) {
    this.maxRound = options.maxRound ?? 1000;
    this.rejectAfter = options.rejectAfter ?? 3;
  }

  /** Queues a write's events; resolves once they are stored. Keeps call order. */
  submit(tenantId: string, events: readonly EventInput[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('MongoDB store is closed'));
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const createdAt = new Date().toISOString();
      const entry: Entry = { docs: [], left: events.length, attempts: 0, settled: false, resolve, reject };
      const payloads = events.map((e) => JSON.stringify(e.payload));
      if (payloads.some((p) => p.length > MAX_PAYLOAD)) {
        reject(new RangeError(`an event payload exceeds ${MAX_PAYLOAD} characters`));
        return;
      }
      entry.docs = events.map((e, i) => ({
        entry,
        doc: {
          tenantId,
          channelId: e.channelId,
          type: e.type,
          payload: payloads[i] as string,
          createdAt,
          publishedAt: null,
        },
        id: null,
        writer: '',
        inserted: false,
      }));
      this.queue.push(entry);
      this.start();
    });
  }

  /** Waits for queued events (giving up on rounds that fail), then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.queue.length > 0) {
      const round = this.takeRound();
      try {
        await this.insert(round);
        failures = 0;
      } catch (err) {
        this.options.onError?.(err);
        if (err instanceof RefusedEvent) {
          // Retrying would fail the same way and hold up every event behind it.
          settle(err.entry, err.cause);
          const at = this.queue.indexOf(err.entry);
          if (at >= 0) this.queue.splice(at, 1);
          continue;
        }
        failures += 1;
        for (const e of new Set(round.map((d) => d.entry))) {
          e.attempts += 1;
          if (this.closed || e.attempts >= this.rejectAfter) settle(e, err);
        }
        if (this.closed) {
          // Closing: what could not be stored now is given up (the callers were rejected).
          this.queue.length = 0;
          return;
        }
        await this.sleep(Math.min(50 * 2 ** (failures - 1), 5000));
      } finally {
        while (this.queue[0] && this.queue[0].left === 0) this.queue.shift();
      }
    }
  }

  /** The not-yet-inserted events of the first queued writes, at least one write, in order. */
  private takeRound(): PendingDoc[] {
    const round: PendingDoc[] = [];
    for (const entry of this.queue) {
      const docs = entry.docs.filter((d) => !d.inserted);
      if (round.length > 0 && round.length + docs.length > this.maxRound) break;
      round.push(...docs);
    }
    return round;
  }

  private async insert(docs: PendingDoc[]): Promise<void> {
    let i = 0;
    let clashes = 0;
    while (i < docs.length) {
      const rest = docs.slice(i);
      const missing = rest.filter((d) => d.id === null);
      if (missing.length > 0) await this.allocate(missing);
      try {
        await this.outbox.insertMany(
          rest.map((d) => ({ _id: d.id as number, ...d.doc, writer: d.writer })),
          { ordered: true },
        );
        for (const d of rest) markInserted(d);
        return;
      } catch (err) {
        const at = duplicateAt(err);
        if (at === null) {
          const refused = refusedAt(err);
          if (refused === null) throw err;
          for (const d of rest.slice(0, refused)) markInserted(d);
          throw new RefusedEvent((rest[refused] as PendingDoc).entry, err);
        }
        for (const d of rest.slice(0, at)) markInserted(d);
        i += at;
        const clash = docs[i] as PendingDoc;
        const stored = await this.outbox.findOne({ _id: clash.id as number }, { projection: { writer: 1 } });
        if (stored?.writer === clash.writer) {
          // Our own insert from an earlier attempt of this round.
          markInserted(clash);
          i += 1;
          continue;
        }
        if (++clashes > MAX_CLASHES) throw new Error(`outbox ids keep clashing (${clashes} times)`);
        for (const d of docs.slice(i)) d.id = null;
      }
    }
  }

  /** Gives `docs` consecutive new ids, in order, from the counter. */
  private async allocate(docs: PendingDoc[]): Promise<void> {
    const k = docs.length;
    const inc = () =>
      this.counters.findOneAndUpdate(
        { _id: COUNTER_ID },
        { $inc: { n: k } },
        { upsert: true, returnDocument: 'after' },
      );
    // Two nodes creating the counter at once: one upsert loses with a duplicate key; retry it.
    const counter = await inc().catch((err: unknown) => (isDuplicateKey(err) ? inc() : Promise.reject(err)));
    if (!counter) throw new Error('outbox counter upsert returned nothing');
    const writer = `${this.token}.${++this.allocations}`;
    docs.forEach((d, j) => {
      d.id = counter.n - k + 1 + j;
      d.writer = writer;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

function markInserted(d: PendingDoc): void {
  if (d.inserted) return;
  d.inserted = true;
  d.entry.left -= 1;
  if (d.entry.left === 0) settle(d.entry, null);
}

function settle(e: Entry, err: unknown): void {
  if (e.settled) return;
  e.settled = true;
  if (err === null) e.resolve();
  else e.reject(err);
}
