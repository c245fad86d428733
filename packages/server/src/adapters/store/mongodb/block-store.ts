/**
 * User blocks of a tenant on MongoDB: one document per (user, blocked user), its `_id`, so a
 * repeated block is refused by the `_id` index and a removal is one `deleteOne`.
 */
import type { Block, Emit, Page } from '../../../ports/store.js';
import { type TenantScope, write } from './connection.js';
import { isDuplicateKey } from './errors.js';
import { limitOf, optStr, str } from './inputs.js';
import { blockKey, toBlock } from './moderation-documents.js';
import { pageOf } from './paging.js';

export async function getBlock(s: TenantScope, userId: string, blockedUserId: string): Promise<Block | null> {
  const key = blockKey(s.tenantId, str(userId, 'userId'), str(blockedUserId, 'blockedUserId'));
  const doc = await s.ctx.readable(s.tenantId).blocks.findOne({ _id: key });
  return doc ? toBlock(doc) : null;
}

/** Stores the block; a repeat keeps (and returns) the first record, `created: false`. */
export function putBlock(
  s: TenantScope,
  input: Block,
  emit?: Emit<Block>,
): Promise<{ block: Block; created: boolean }> {
  const { ctx, tenantId } = s;
  const block: Block = {
    userId: str(input.userId, 'userId'),
    blockedUserId: str(input.blockedUserId, 'blockedUserId'),
    createdAt: str(input.createdAt, 'createdAt'),
  };
  const key = blockKey(tenantId, block.userId, block.blockedUserId);
  return write<{ block: Block; created: boolean }>(s, emit !== undefined, async () => {
    const cols = await ctx.writable(tenantId);
    const existing = await cols.blocks.findOne({ _id: key });
    if (existing) return { result: { block: toBlock(existing), created: false }, events: [] };
    const events = emit ? emit(block) : [];
    try {
      await cols.blocks.insertOne({ _id: key, tenantId, ...block });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Stored by another node in between.
      const first = await cols.blocks.findOne({ _id: key });
      if (!first) throw err;
      return { result: { block: toBlock(first), created: false }, events: [] };
    }
    return { result: { block, created: true }, events };
  });
}

export function removeBlock(
  s: TenantScope,
  userId: string,
  blockedUserId: string,
  emit?: Emit<Block>,
): Promise<Block | null> {
  const { ctx, tenantId } = s;
  const key = blockKey(tenantId, str(userId, 'userId'), str(blockedUserId, 'blockedUserId'));
  return write(s, emit !== undefined, async () => {
    const cols = ctx.readable(tenantId);
    const existing = await cols.blocks.findOne({ _id: key });
    if (!existing) return { result: null, events: [] };
    const block = toBlock(existing);
    const events = emit ? emit(block) : [];
    const { deletedCount } = await cols.blocks.deleteOne({ _id: key });
    return deletedCount > 0 ? { result: block, events } : { result: null, events: [] };
  });
}

export async function listBlocks(
  s: TenantScope,
  userId: string,
  opts: { limit: number; after?: string },
): Promise<Page<Block>> {
  const limit = limitOf(opts.limit);
  const docs = await s.ctx
    .readable(s.tenantId)
    .blocks.find({
      tenantId: s.tenantId,
      userId: str(userId, 'userId'),
      blockedUserId: { $gt: optStr(opts.after, 'after') ?? '' },
    })
    .sort({ blockedUserId: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toBlock), limit, (b) => b.blockedUserId);
}
