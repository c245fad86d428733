/**
 * The outbox on MongoDB: events appended by writes (through OutboxWriter), read in id order by the
 * relay, marked published, and pruned once old. One collection in the main database for all
 * tenants, so ids order events per store.
 */
import type { OutboxEvent } from '../../../domain/events.js';
import type { OutboxStore } from '../../../ports/store.js';
import { type MongoContext, now } from './connection.js';
import { toOutboxEvent } from './documents.js';
import { limitOf, num, optNum, str } from './inputs.js';

export class MongoOutboxStore implements OutboxStore {
  constructor(private readonly ctx: MongoContext) {}

  async pending(limit: number, afterId?: number): Promise<OutboxEvent[]> {
    const n = limitOf(limit);
    if (n === 0) return [];
    const docs = await this.ctx.outbox
      .find({ publishedAt: null, _id: { $gt: optNum(afterId, 'afterId') ?? 0 } })
      .sort({ _id: 1 })
      .limit(n)
      .toArray();
    return docs.map(toOutboxEvent);
  }

  async markPublished(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const checked = ids.map((id, i) => num(id, `ids[${i}]`));
    await this.ctx.outbox.updateMany({ _id: { $in: checked }, publishedAt: null }, { $set: { publishedAt: now() } });
  }

  async prune(before: string, limit?: number): Promise<number> {
    // Normalised so that comparing with stored `toISOString()` values compares times.
    const cutoff = new Date(str(before, 'before')).toISOString();
    const filter = { publishedAt: { $ne: null }, createdAt: { $lt: cutoff } };
    if (limit === undefined) return (await this.ctx.outbox.deleteMany(filter)).deletedCount;
    // deleteMany takes no limit: the oldest ids first (the `{createdAt}` index), then those.
    const oldest = await this.ctx.outbox
      .find(filter, { projection: { _id: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(num(limit, 'limit'))
      .toArray();
    if (oldest.length === 0) return 0;
    return (await this.ctx.outbox.deleteMany({ _id: { $in: oldest.map((d) => d._id) } })).deletedCount;
  }
}
