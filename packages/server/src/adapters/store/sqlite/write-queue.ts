/**
 * Group commit for SQLite writes.
 *
 * A commit costs far more than the statements in it (WAL frames for every touched page, and
 * periodically a checkpoint with fsync): on an ordinary disk one message per transaction tops
 * out around 6k/s. Writes requested during the same turn of the event loop therefore run together
 * in ONE IMMEDIATE transaction on the next `setImmediate`. Every promise settles after the
 * commit, so a resolved write is as durable as a lone one.
 *
 * A write that throws (or whose `emit` throws) must roll back alone. Savepoints around each write
 * would do that but cost ~20% of the hot path, so the batch first runs without them; if a write
 * throws, the whole transaction rolls back and the batch runs again with one savepoint per write.
 * Write bodies depend only on the database and their input, so the second run computes the same
 * results (it is why `emit` must only build events).
 *
 * Writes run in the order they were requested, so a caller that fires two writes without awaiting
 * still sees them applied in order.
 */
import type { Database, Transaction } from 'better-sqlite3';

interface QueuedWrite {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The connection's `busy_timeout` between the passes that may wait (see `WriteQueue.waitSql`). */
const NO_WAIT = 'PRAGMA busy_timeout = 0';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Thrown out of the fast pass to roll it back when one write of the batch failed. */
class WriteFailed extends Error {
  constructor(readonly error: unknown) {
    super('a write of the batch failed');
  }
}

/** What a {@link WriteQueue} tells its owner about its transactions. */
export interface WriteQueueHooks {
  /**
   * Writes have run and their transaction (the batch's, or in the second pass one write's
   * savepoint) is about to end: statements the owner put off until then go in here. Throwing
   * fails the batch (or that one write).
   */
  beforeEnd?: () => void;
  /** A transaction rolled back (all of a batch, or one write's savepoint). */
  onRollback?: () => void;
  /** A batch committed; called before its writes' promises settle. */
  onCommit?: () => void;
}

export class WriteQueue {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private readonly fastPass: Transaction<(batch: QueuedWrite[]) => unknown[]>;
  private readonly safePass: Transaction<(batch: QueuedWrite[]) => Outcome[]>;
  /**
   * `PRAGMA busy_timeout` for the passes that may wait for the lock ({@link waiting}). The
   * connection is otherwise left at 0, so an ordinary flush finds a held lock at BEGIN at once
   * instead of waiting inside SQLite with the event loop stopped. Switched with `exec`: SQLite
   * applies this pragma when the statement is compiled, so running a prepared one again does not
   * apply it again (that is how the first flush of a new connection once waited the whole 5 s).
   */
  private readonly waitSql: string;
  /** When the lock was first found busy for the batch at the head of the queue; 0: it was not. */
  private busySince = 0;
  private readonly onRollback: () => void;
  /** Whether the batch being committed got past BEGIN (its writes started to run). */
  private began = false;
  private readonly onCommit: () => void;

  /**
   * @param maxBatch Writes per transaction; bounds how long one flush holds the event loop and
   *   the file lock. @default 256
   */
  constructor(
    private readonly db: Database,
    hooks: WriteQueueHooks = {},
    private readonly maxBatch = 256,
    /** How long a batch may wait for another process's write lock before it fails. @default 5000 */
    private readonly lockWaitMs = 5000,
  ) {
    this.onRollback = hooks.onRollback ?? (() => {});
    this.onCommit = hooks.onCommit ?? (() => {});
    const beforeEnd = hooks.beforeEnd ?? (() => {});
    this.waitSql = `PRAGMA busy_timeout = ${Math.max(0, Math.floor(lockWaitMs))}`;
    // Writes all come through here. Reads in WAL mode take no lock that a busy wait would cover
    // while the server keeps the file open (SQLite's exceptions: another connection in exclusive
    // locking mode, or recovery after the last connection crashed or closed).
    db.exec(NO_WAIT);
    this.fastPass = db.transaction((batch: QueuedWrite[]) => {
      this.began = true;
      const values = batch.map((w) => {
        try {
          return w.body();
        } catch (error) {
          throw new WriteFailed(error);
        }
      });
      beforeEnd();
      return values;
    });
    // Called inside a transaction, a better-sqlite3 transaction function becomes a savepoint.
    const savepoint = db.transaction((body: () => unknown) => {
      const value = body();
      beforeEnd();
      return value;
    });
    this.safePass = db.transaction((batch: QueuedWrite[]) =>
      batch.map((w): Outcome => {
        try {
          return { ok: true, value: savepoint(w.body) };
        } catch (error) {
          // The savepoint rolled back: what the owner put off for this write is gone with it.
          this.onRollback();
          return { ok: false, error };
        }
      }),
    );
  }

  /** Queues `body` to run in the next group transaction; settles after that transaction commits. */
  push<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ body, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushOne());
      }
    });
  }

  /** Runs every queued write now (before closing the database), waiting for the lock if need be. */
  drain(): void {
    while (this.queue.length > 0) this.commit(this.queue.splice(0, this.maxBatch), true);
  }

  private flushOne(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (!this.commit(batch, false)) {
      // Another process (a NATTER_WORKERS sibling) holds the write lock. Waiting for it inside
      // SQLite would stop this process's event loop (the busy handler sleeps, 1 ms and up); the
      // batch goes back to the head of the queue instead and is tried again shortly, while frames
      // keep being served and their writes join it.
      this.queue.unshift(...batch);
      this.scheduled = true;
      setTimeout(() => this.flushOne(), 1);
      return;
    }
    // More than one batch queued: commit the rest after letting pending I/O run.
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushOne());
    }
  }

  /**
   * Runs `batch` in one transaction and settles its writes. Returns false, having run and settled
   * nothing, when another connection holds the write lock, `wait` is false and the batch has not
   * been waiting for longer than `lockWaitMs`.
   */
  private commit(batch: QueuedWrite[], wait: boolean): boolean {
    if (batch.length === 0) return true;
    let outcomes: Outcome[];
    this.began = false;
    try {
      const values = wait ? this.waiting(() => this.fastPass.immediate(batch)) : this.fastPass.immediate(batch);
      outcomes = values.map((value) => ({ ok: true, value }));
    } catch (err) {
      // BEGIN or COMMIT failed (e.g. the lock stayed busy): nothing of the batch was stored. When
      // BEGIN did (another connection holds the write lock), no write ran: nothing to forget.
      if (this.began) this.onRollback();
      if (!wait && isBusy(err)) {
        const now = Date.now();
        if (this.busySince === 0) this.busySince = now;
        if (now - this.busySince < this.lockWaitMs) return false;
      }
      this.busySince = 0;
      if (!(err instanceof WriteFailed)) {
        rejectAll(batch, err);
        return true;
      }
      if (batch.length === 1) {
        rejectAll(batch, err.error);
        return true;
      }
      try {
        // This pass may wait for the lock (up to the busy timeout): it runs only after a write
        // failed, and another process may have taken the lock when the first pass rolled back.
        outcomes = this.waiting(() => this.safePass.immediate(batch));
      } catch (error) {
        this.onRollback();
        rejectAll(batch, error);
        return true;
      }
      // A write that failed in the second pass rolled back to its savepoint.
      if (outcomes.some((o) => !o.ok)) this.onRollback();
    }
    this.busySince = 0;
    this.onCommit();
    batch.forEach((w, i) => {
      const o = outcomes[i];
      if (o?.ok) w.resolve(o.value);
      else w.reject(o ? o.error : new Error('write lost its outcome'));
    });
    return true;
  }

  /** Runs `pass` with SQLite's busy wait on: a held lock is waited for, up to `lockWaitMs`. */
  private waiting<T>(pass: () => T): T {
    this.db.exec(this.waitSql);
    try {
      return pass();
    } finally {
      this.db.exec(NO_WAIT);
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function rejectAll(batch: QueuedWrite[], error: unknown): void {
  for (const w of batch) w.reject(error);
}
