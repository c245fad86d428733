/**
 * User blocks of a tenant on SQLite: one row per (user, blocked user).
 */
import type { Block, Emit, Page } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';

interface BlockRow {
  user_id: string;
  blocked_user_id: string;
  created_at: string;
}

const COLUMNS = 'user_id, blocked_user_id, created_at';

function toBlock(r: BlockRow): Block {
  return { userId: r.user_id, blockedUserId: r.blocked_user_id, createdAt: r.created_at };
}

export function getBlock(s: TenantScope, userId: string, blockedUserId: string): Block | null {
  const row = s.ctx.one<BlockRow>(
    `SELECT ${COLUMNS} FROM blocks WHERE tenant_id = ? AND user_id = ? AND blocked_user_id = ?`,
    s.tenantId,
    userId,
    blockedUserId,
  );
  return row ? toBlock(row) : null;
}

export function putBlock(
  s: TenantScope,
  block: Block,
  emit?: Emit<Block>,
): Promise<{ block: Block; created: boolean }> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const existing = getBlock(s, block.userId, block.blockedUserId);
    if (existing) return { block: existing, created: false };
    ctx.run(
      `INSERT INTO blocks (tenant_id, ${COLUMNS}) VALUES (?, ?, ?, ?)`,
      tenantId,
      block.userId,
      block.blockedUserId,
      block.createdAt,
    );
    const stored = { ...block };
    if (emit) ctx.appendEvents(tenantId, emit(stored));
    return { block: stored, created: true };
  });
}

export function removeBlock(
  s: TenantScope,
  userId: string,
  blockedUserId: string,
  emit?: Emit<Block>,
): Promise<Block | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const existing = getBlock(s, userId, blockedUserId);
    if (!existing) return null;
    ctx.run(
      'DELETE FROM blocks WHERE tenant_id = ? AND user_id = ? AND blocked_user_id = ?',
      tenantId,
      userId,
      blockedUserId,
    );
    if (emit) ctx.appendEvents(tenantId, emit(existing));
    return existing;
  });
}

export function listBlocks(s: TenantScope, userId: string, opts: { limit: number; after?: string }): Page<Block> {
  const rows = s.ctx.all<BlockRow>(
    `SELECT ${COLUMNS} FROM blocks WHERE tenant_id = ? AND user_id = ? AND blocked_user_id > ?
     ORDER BY blocked_user_id LIMIT ?`,
    s.tenantId,
    userId,
    opts.after ?? '',
    opts.limit + 1,
  );
  return pageOf(rows.map(toBlock), opts.limit, (b) => b.blockedUserId);
}
