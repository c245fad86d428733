/**
 * The outbox on SQLite: events appended by writes (see `SqliteContext.appendEvents`), read in id
 * order by the relay, marked published, and pruned once old.
 */
import type { OutboxEvent } from '../../../domain/events.js';
import type { OutboxStore } from '../../../ports/store.js';
import { now, type SqliteContext } from './connection.js';
import { type OutboxRow, toOutboxEvent } from './rows.js';

const MARK_PUBLISHED = `UPDATE outbox SET published_at = ?
  WHERE id IN (SELECT value FROM json_each(?)) AND published_at IS NULL`;

export class SqliteOutboxStore implements OutboxStore {
  constructor(private readonly ctx: SqliteContext) {
    ctx.keepsMemo(MARK_PUBLISHED);
  }

  async pending(limit: number, afterId = 0): Promise<OutboxEvent[]> {
    const rows = this.ctx.all<OutboxRow>(
      `SELECT id, tenant_id, channel_id, type, payload, created_at FROM outbox
       WHERE published_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
      afterId,
      limit,
    );
    return rows.map(toOutboxEvent);
  }

  async markPublished(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const at = now();
    await this.ctx.write(() => this.ctx.run(MARK_PUBLISHED, at, JSON.stringify(ids)));
  }

  async prune(before: string): Promise<number> {
    // Normalised so that the text comparison with stored `toISOString()` values is a time one.
    const cutoff = new Date(before).toISOString();
    return this.ctx.write(() =>
      this.ctx.run('DELETE FROM outbox WHERE published_at IS NOT NULL AND created_at < ?', cutoff),
    );
  }
}
