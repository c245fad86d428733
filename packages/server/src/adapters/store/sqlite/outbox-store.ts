/**
 * The outbox on SQLite: events appended by writes (see `SqliteContext.appendEvents`), read in id
 * order by the relay, marked published, and pruned once old.
 *
 * The relay reads what was just committed, so the store hands it over from memory instead of
 * reading it back: once a read has seen every unpublished row, the store keeps the unpublished set
 * itself, adding the rows each commit of this connection inserted and dropping the ones marked
 * published. It goes back to reading the file when it cannot be sure of that set:
 * - another connection committed (`PRAGMA data_version`: a `NATTER_WORKERS` sibling, a second
 *   store on the file, the `sqlite3` shell);
 * - a commit's rows do not follow the last id it knows (ids are AUTOINCREMENT, so rows of one
 *   connection follow each other unless another one inserted in between);
 * - a write of a batch rolled back to its savepoint.
 * The rows are on disk either way: memory only saves reading them back, so nothing is lost when
 * the process dies.
 *
 * Marking published is written with the next write batch (at the latest {@link MARK_DELAY_MS}
 * later) rather than in a transaction of its own. Until then the rows are unpublished on disk,
 * so a crash in between publishes them again (the bus is at-least-once anyway).
 */
import type { OutboxEvent } from '../../../domain/events.js';
import type { OutboxStore } from '../../../ports/store.js';
import { now, type SqliteContext } from './connection.js';
import { type OutboxRow, toOutboxEvent } from './rows.js';

const MARK_PUBLISHED = `UPDATE outbox SET published_at = ?
  WHERE id IN (SELECT value FROM json_each(?)) AND published_at IS NULL`;
const PENDING = `SELECT id, tenant_id, channel_id, type, payload, created_at FROM outbox
  WHERE published_at IS NULL AND id > ? ORDER BY id LIMIT ?`;
const LAST_ID = `SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`;
const PRUNE_ALL = 'DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < ?';
/** The oldest rows, by id: ids follow creation, so the rows old enough to prune come first. */
const OLDEST = `SELECT id, created_at, published_at IS NOT NULL AS published FROM outbox ORDER BY id LIMIT ?`;
const DELETE_IDS = 'DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))';

/** How long marks may wait for another write to go with. */
const MARK_DELAY_MS = 50;
/** Unpublished rows kept in memory at most (the bus may be down for long): beyond, read the file. */
const MAX_KEPT = 20_000;

export class SqliteOutboxStore implements OutboxStore {
  /** The unpublished rows in id order, when known (see the file comment); null: read the file. */
  private unpublished: OutboxEvent[] | null = null;
  /** The highest outbox id when {@link unpublished} is known. */
  private lastId = 0;
  /** `otherCommitsVersion()` when {@link unpublished} became known. */
  private version = -1;
  /** Ids marked published and not written yet. */
  private marks = new Set<number>();
  private markTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: SqliteContext) {
    ctx.keepsMemo(MARK_PUBLISHED, PRUNE_ALL, DELETE_IDS);
    ctx.onEventsCommitted((events) => this.committed(events));
  }

  async pending(limit: number, afterId = 0): Promise<OutboxEvent[]> {
    if (this.unpublished !== null && this.ctx.otherCommitsVersion() !== this.version) this.unpublished = null;
    if (this.unpublished !== null) {
      const out: OutboxEvent[] = [];
      for (const e of this.unpublished) {
        if (e.id <= afterId) continue;
        if (out.length === limit) break;
        out.push(e);
      }
      return out;
    }
    // One snapshot for the rows and the last id, so no row can fall between them.
    const { rows, lastId, version } = this.ctx.read(() => ({
      rows: this.ctx.all<OutboxRow>(PENDING, afterId, limit + this.marks.size + 1),
      lastId: this.ctx.one<{ seq: number }>(LAST_ID)?.seq ?? 0,
      version: this.ctx.otherCommitsVersion(),
    }));
    // Marked, not written yet: published already.
    const events = rows.filter((r) => !this.marks.has(r.id)).map(toOutboxEvent);
    if (events.length <= limit && afterId === 0) {
      this.unpublished = events;
      this.lastId = lastId;
      this.version = version;
    }
    return events.slice(0, limit);
  }

  async markPublished(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) this.marks.add(id);
    if (this.unpublished !== null) {
      const marked = new Set(ids);
      this.unpublished = this.unpublished.filter((e) => !marked.has(e.id));
    }
    if (this.markTimer === null) {
      this.markTimer = setTimeout(() => void this.writeMarks(), MARK_DELAY_MS);
      this.markTimer.unref();
    }
  }

  /**
   * Queues the marks not written yet as a write (it joins the batch of this turn, if any). The
   * store calls it before closing, so no mark is left behind.
   */
  writeMarks(): Promise<void> {
    if (this.markTimer !== null) clearTimeout(this.markTimer);
    this.markTimer = null;
    if (this.marks.size === 0) return Promise.resolve();
    const ids = [...this.marks];
    return this.ctx
      .write(() => this.ctx.run(MARK_PUBLISHED, now(), JSON.stringify(ids)))
      .then(
        () => {
          // Nothing marked meanwhile: a new set rather than deleting one by one (each shrink makes
          // V8 rebuild the table; see `queuedReplies` in realtime/context.ts).
          if (this.marks.size === ids.length && ids.every((id) => this.marks.has(id))) this.marks = new Set();
          else for (const id of ids) this.marks.delete(id);
        },
        () => {
          // Still unpublished on disk: the marks stay, and are written with the next ones.
        },
      );
  }

  async prune(before: string, limit?: number): Promise<number> {
    // Rows marked published are pruned only once the marks are written.
    // Normalised so that the text comparison with stored `toISOString()` values is a time one.
    const cutoff = new Date(before).toISOString();
    await this.writeMarks();
    if (limit === undefined) return this.ctx.write(() => this.ctx.run(PRUNE_ALL, cutoff));
    // Not `created_at < ?` over the table (it has no index on the time): the oldest `limit` rows,
    // up to the first one too young, so a prune with nothing to do reads one row.
    return this.ctx.write(() => {
      const ids: number[] = [];
      for (const row of this.ctx.all<{ id: number; created_at: string; published: number }>(OLDEST, limit)) {
        if (row.created_at >= cutoff) break;
        if (row.published) ids.push(row.id);
      }
      return ids.length === 0 ? 0 : this.ctx.run(DELETE_IDS, JSON.stringify(ids));
    });
  }

  /** The events a commit of this connection inserted, in id order (null: not known exactly). */
  private committed(events: OutboxEvent[] | null): void {
    if (this.unpublished === null) return;
    // Ids of one transaction only grow, so they follow the last known one with no gap exactly
    // when the first is next and the last is as far on as there are rows.
    const follows =
      events !== null && events[0]?.id === this.lastId + 1 && events.at(-1)?.id === this.lastId + events.length;
    if (!follows || this.unpublished.length + events.length > MAX_KEPT) {
      this.unpublished = null;
      return;
    }
    this.unpublished.push(...events);
    this.lastId += events.length;
  }
}
