/**
 * The SQLite connection shared by the parts of the store: opening the file, prepared statements,
 * write transactions and the outbox append that every write ends with.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { EventInput } from '../../../domain/events.js';
import { migrate } from './migrations.js';
import type { OutboxRow } from './rows.js';
import { WriteQueue } from './write-queue.js';

/** Entries the memo holds before it starts over (it is cleared whole, not evicted one by one). */
const MEMO_LIMIT = 50_000;

/**
 * Told after each commit of this connection: the outbox rows it inserted, in id order, or null
 * when some write of the batch rolled back to its savepoint (which of its rows stayed is then
 * unknown here).
 */
export type EventsCommitted = (rows: OutboxRow[] | null) => void;

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
  /** Outbox rows inserted by the transaction running now; see {@link onEventsCommitted}. */
  private appended: OutboxRow[] = [];
  /** A rollback happened since the last commit: {@link appended} may hold rows that are gone. */
  private appendedSpoiled = false;
  private eventsCommitted: EventsCommitted | null = null;

  constructor(readonly db: Db) {
    this.transaction = db.transaction((body: () => unknown) => body());
    this.writes = new WriteQueue(db, {
      onRollback: () => {
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
   * process on the same file waits (busy_timeout) instead of failing to upgrade a read lock
   * halfway through. Anything `body` throws rolls back `body` alone and rejects its promise.
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
      const payload = JSON.stringify(e.payload);
      const { lastInsertRowid } = this.insertEvent.run(tenantId, e.channelId, e.type, payload, at);
      this.appended.push({
        id: Number(lastInsertRowid),
        tenant_id: tenantId,
        channel_id: e.channelId,
        type: e.type,
        payload,
        created_at: at,
      });
    }
  }
}

/** What every tenant-scoped operation receives: the connection and the tenant it is bound to. */
export interface TenantScope {
  readonly ctx: SqliteContext;
  readonly tenantId: string;
}

/** Current time as stored: ISO-8601 in UTC with milliseconds. */
export function now(): string {
  return new Date().toISOString();
}

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
    // A second process holding the write lock makes us wait up to 5 s rather than fail at once.
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
