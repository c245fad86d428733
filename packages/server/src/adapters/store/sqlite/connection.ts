/**
 * The SQLite connection shared by the parts of the store: opening the file, prepared statements,
 * write transactions and the outbox append that every write ends with.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { EventInput, OutboxEvent } from '../../../domain/events.js';
import { migrate } from './migrations.js';
import { WriteQueue } from './write-queue.js';

/** Entries the memo holds before it starts over (it is cleared whole, not evicted one by one). */
const MEMO_LIMIT = 50_000;

/**
 * Told after each commit of this connection: the outbox events it inserted, in id order, or null
 * when some write of the batch rolled back to its savepoint (which of its rows stayed is then
 * unknown here). Each payload is the object the write serialized, not a parse of the stored text:
 * listeners share it and must not change it.
 */
export type EventsCommitted = (events: OutboxEvent[] | null) => void;

/** A channel's sequence counter as the write transaction running now has moved it. */
export interface SeqCounter {
  tenantId: string;
  channelId: string;
  lastSeq: number;
  slowModeSeconds: number;
  /** The time of the last message counted; null: not moved since it was read. */
  at: string | null;
}

/** What the store parts share: one per store, i.e. one per connection. */
export class SqliteContext {
  private readonly statements = new Map<string, Statement>();
  /** See {@link memo}. */
  private readonly memos = new Map<string, unknown>();
  private memoVersion = -1;
  private versionChecked = false;
  private readonly recheckVersion = () => {
    this.versionChecked = false;
  };
  private readonly dataVersion: Statement;
  /** Writes that leave what {@link memo} holds as it was (see {@link keepsMemo}). */
  private readonly memoSafe = new Set<string>();
  /** One transaction wrapper for every read body, so no wrapper is built per call. */
  private readonly transaction: Transaction<(body: () => unknown) => unknown>;
  private readonly writes: WriteQueue;
  private readonly insertEvent: Statement;
  /** Outbox events inserted by the transaction running now; see {@link onEventsCommitted}. */
  private appended: OutboxEvent[] = [];
  /** A rollback happened since the last commit: {@link appended} may hold rows that are gone. */
  private appendedSpoiled = false;
  private eventsCommitted: EventsCommitted | null = null;
  /**
   * See {@link seqCounter}: the counters read in the write transaction running now, by channel. A
   * new map per transaction rather than `clear()`, which makes V8 link the old table to the new one
   * and so keeps every later table alive through young-generation collections (see `queuedReplies`
   * in realtime/context.ts).
   */
  private seqs = new Map<string, SeqCounter>();
  /** Statements that neither read nor write `channels` (see {@link seqCounter}). */
  private readonly seqSafe = new Set<string>();
  private readonly readSeq: Statement;
  private readonly writeSeq: Statement;

  constructor(readonly db: Db) {
    this.transaction = db.transaction((body: () => unknown) => body());
    this.writes = new WriteQueue(db, {
      beforeEnd: () => this.writeSeqs(),
      onRollback: () => {
        // The counters were moved by writes that are gone.
        this.seqs = new Map();
        // A batch that rolled back may have been read into the memo half-written.
        this.memos.clear();
        this.appended = [];
        this.appendedSpoiled = true;
      },
      onCommit: () => {
        const events = this.appendedSpoiled ? null : this.appended;
        this.appended = [];
        this.appendedSpoiled = false;
        if (!this.eventsCommitted || (events !== null && events.length === 0)) return;
        try {
          this.eventsCommitted(events);
        } catch {
          // The writes are committed and their promises must settle: the listener is told it
          // cannot know (the outbox store then reads the file).
          this.eventsCommitted(null);
        }
      },
    });
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.readSeq = db.prepare('SELECT last_seq, slow_mode_seconds FROM channels WHERE tenant_id = ? AND id = ?');
    this.writeSeq = db.prepare(
      'UPDATE channels SET last_seq = ?, last_message_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?',
    );
    this.insertEvent = this.stmt(
      `INSERT INTO outbox (tenant_id, channel_id, type, payload, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
  }

  /**
   * The prepared statement for `sql`, prepared on first use and reused afterwards. A write run
   * through it directly (the seq bump, the outbox insert) bypasses {@link run}, so it does not
   * clear {@link memo}: only writes that change nothing the memo holds may do that.
   */
  stmt(sql: string): Statement {
    // Any statement may read or write a channel row: the counters moved so far go in first.
    if (this.seqs.size > 0 && !this.seqSafe.has(sql)) this.writeSeqs();
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** First row of `sql`, or undefined. The row type is the caller's claim about its SELECT list. */
  one<Row>(sql: string, ...params: unknown[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  all<Row>(sql: string, ...params: unknown[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  /** Runs a write; returns the number of rows changed. */
  run(sql: string, ...params: unknown[]): number {
    if (this.memos.size > 0 && !this.memoSafe.has(sql)) this.memos.clear();
    return this.stmt(sql).run(...params).changes;
  }

  /**
   * `read()`'s result, remembered under `key` for the reads on the hot path that almost never
   * change (a tenant's record, a user's sanctions), which would otherwise cost a statement on
   * every frame. It is forgotten, all of it, when
   * - this connection runs any write but the few marked {@link keepsMemo} (sending a message),
   *   deletes and cascades included: a write's statement text is not trusted to tell what it
   *   touches;
   * - another connection commits anything (`PRAGMA data_version` changes: another process on the
   *   same file, such as a `NATTER_WORKERS` sibling or the `sqlite3` shell), checked once per
   *   turn of the event loop;
   * - a write batch rolls back.
   * So a value read from the memo is what the database held after the last commit. Values are
   * shared between callers, who must not change them.
   */
  memo<T>(key: string, read: () => T): T {
    if (!this.versionChecked) {
      // Asking costs about as much as the reads it saves (SQLite looks at the WAL index), so it
      // is asked once per turn of the event loop: what another process commits during a turn
      // is seen from the next one, as if this turn's reads had run a moment earlier.
      this.versionChecked = true;
      setImmediate(this.recheckVersion);
      const version = this.dataVersion.get() as number;
      if (version !== this.memoVersion) {
        this.memos.clear();
        this.memoVersion = version;
      }
    }
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = read();
    if (this.memos.size >= MEMO_LIMIT) this.memos.clear();
    this.memos.set(key, value);
    return value;
  }

  /**
   * Replaces what {@link memo} holds under `key` with `next(held)`, when it holds something: for a
   * write marked {@link keepsMemo} that changes a remembered value in a way it knows exactly (a
   * send moves its channel's `lastSeq`). Call it inside the write, so a rollback forgets it.
   */
  memoUpdate<T>(key: string, next: (held: T) => T): void {
    const held = this.memos.get(key) as T | undefined;
    if (held !== undefined && held !== null) this.memos.set(key, next(held));
  }

  /**
   * A channel's sequence counter, inside {@link write}; undefined when the channel does not exist.
   * The counter is the channel row's `last_seq`, read once per transaction; {@link countSeq} moves
   * it, and it is written back once, with `last_message_at = updated_at` the time of the last
   * message counted, when the transaction ends or before any statement not marked
   * {@link keepsSeqs} runs. A batch of sends into a few channels so costs one UPDATE per channel
   * instead of one per message. The write lock is held from BEGIN (IMMEDIATE), so no other
   * process moves the counter in between; a rollback forgets what was not written.
   */
  seqCounter(tenantId: string, channelId: string): Readonly<SeqCounter> | undefined {
    const key = `${tenantId}\u0000${channelId}`;
    let c = this.seqs.get(key);
    if (c === undefined) {
      const row = this.readSeq.get(tenantId, channelId) as { last_seq: number; slow_mode_seconds: number } | undefined;
      if (row === undefined) return undefined;
      c = { tenantId, channelId, lastSeq: row.last_seq, slowModeSeconds: row.slow_mode_seconds, at: null };
      this.seqs.set(key, c);
    }
    return c;
  }

  /** Moves a counter of {@link seqCounter} to `seq` (its next number), counted at `at`. */
  countSeq(counter: Readonly<SeqCounter>, seq: number, at: string): void {
    const c = counter as SeqCounter;
    c.lastSeq = seq;
    c.at = at;
  }

  /** Marks statements that neither read nor write `channels`: they run with counters still unwritten. */
  keepsSeqs(...sql: string[]): void {
    for (const s of sql) this.seqSafe.add(s);
  }

  /** Writes the counters {@link countSeq} moved, and forgets them (the next transaction reads again). */
  private writeSeqs(): void {
    for (const c of this.seqs.values()) {
      if (c.at !== null) this.writeSeq.run(c.lastSeq, c.at, c.at, c.tenantId, c.channelId);
    }
    if (this.seqs.size > 0) this.seqs = new Map();
  }

  /** Changes whenever another connection commits (`PRAGMA data_version`); never for this one's. */
  otherCommitsVersion(): number {
    return this.dataVersion.get() as number;
  }

  /** Registers the one listener told of the outbox rows each commit inserted (the outbox store). */
  onEventsCommitted(listener: EventsCommitted): void {
    this.eventsCommitted = listener;
  }

  /** Marks writes that change nothing {@link memo} holds (message rows, the outbox), so they keep it. */
  keepsMemo(...sql: string[]): void {
    for (const s of sql) this.memoSafe.add(s);
  }

  /**
   * Runs `body` atomically in an IMMEDIATE transaction, grouped with the other writes of this
   * event-loop turn (see {@link WriteQueue}). IMMEDIATE takes the write lock at BEGIN, so a second
   * process on the same file waits (the queue tries again shortly) instead of failing to upgrade
   * a read lock halfway through. Anything `body` throws rolls back `body` alone and rejects its promise.
   */
  write<T>(body: () => T): Promise<T> {
    return this.writes.push(body);
  }

  /** Commits the writes still queued; call before closing the database. */
  drain(): void {
    this.writes.drain();
  }

  /** Runs several reads on one snapshot of the database. */
  read<T>(body: () => T): T {
    return this.transaction.deferred(body) as T;
  }

  /** Appends events to the outbox; call inside {@link write}, after the change they describe. */
  appendEvents(tenantId: string, events: readonly EventInput[]): void {
    if (events.length === 0) return;
    const at = now();
    for (const e of events) {
      const { lastInsertRowid } = this.insertEvent.run(tenantId, e.channelId, e.type, JSON.stringify(e.payload), at);
      // Type and payload come from one EventInput, so they still belong together (no spread of
      // `e`: it costs as much as the insert).
      const { type, channelId, payload } = e;
      this.appended.push({
        id: Number(lastInsertRowid),
        tenantId,
        channelId,
        type,
        payload,
        createdAt: at,
      } as OutboxEvent);
    }
  }
}

/** What every tenant-scoped operation receives: the connection and the tenant it is bound to. */
export interface TenantScope {
  readonly ctx: SqliteContext;
  readonly tenantId: string;
}

/**
 * Current time as stored: ISO-8601 in UTC with milliseconds. A write batch asks for it several
 * times per message within the same millisecond, so the text of the last millisecond is kept.
 */
export function now(): string {
  const ms = Date.now();
  if (ms !== lastNowMs) {
    lastNowMs = ms;
    lastNowText = new Date(ms).toISOString();
  }
  return lastNowText;
}
let lastNowMs = Number.NaN;
let lastNowText = '';

/** Opens (creating if needed) the database at `path` and brings its schema up to date. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:' && !path.startsWith('file:')) {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a committed write survives a
    // crash of the process (it is in the WAL file), and only a power loss or OS crash can drop
    // the last commits. That trade buys most of the write throughput.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A second process holding the write lock makes the migrations wait up to 5 s rather than fail
    // at once. The write queue then sets its own (`write-queue.ts`: flushes do not wait in SQLite).
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
