/**
 * Channel members of a tenant on SQLite. The channel's `member_count` column moves with every
 * insert and delete here, in the same transaction.
 */
import type { Member, MemberRole } from '@natter/protocol';
import type { Emit, Page } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';
import { MEMBER_COLUMNS, type MemberRow, toMember } from './rows.js';

/**
 * Inserts the members that are not in the channel yet (existing rows keep their role and
 * joinedAt) and bumps the member count. Call inside a write. Returns the members inserted.
 */
export function insertMembers(
  s: TenantScope,
  channelId: string,
  members: { userId: string; role: MemberRole }[],
  joinedAt: string,
): Member[] {
  const { ctx, tenantId } = s;
  const added: Member[] = [];
  for (const m of members) {
    const changed = ctx.run(
      `INSERT INTO members (tenant_id, channel_id, user_id, role, last_read_seq, joined_at)
       VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING`,
      tenantId,
      channelId,
      m.userId,
      m.role,
      joinedAt,
    );
    if (changed > 0) {
      added.push({
        channelId,
        userId: m.userId,
        role: m.role,
        lastReadSeq: 0,
        lastReadAt: null,
        joinedAt,
      });
    }
  }
  if (added.length > 0) {
    ctx.run(
      'UPDATE channels SET member_count = member_count + ? WHERE tenant_id = ? AND id = ?',
      added.length,
      tenantId,
      channelId,
    );
  }
  return added;
}

export function addMembers(
  s: TenantScope,
  channelId: string,
  members: { userId: string; role: MemberRole }[],
  joinedAt: string,
  emit?: Emit<Member[]>,
): Promise<Member[]> {
  return s.ctx.write(() => {
    if (!s.ctx.one('SELECT 1 FROM channels WHERE tenant_id = ? AND id = ?', s.tenantId, channelId)) {
      throw new Error(`channel ${channelId} not found`);
    }
    const added = insertMembers(s, channelId, members, joinedAt);
    if (emit && added.length > 0) s.ctx.appendEvents(s.tenantId, emit(added));
    return added;
  });
}

export function removeMembers(
  s: TenantScope,
  channelId: string,
  userIds: string[],
  emit?: Emit<string[]>,
): Promise<string[]> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const removed = userIds.filter(
      (userId) =>
        ctx.run(
          'DELETE FROM members WHERE tenant_id = ? AND channel_id = ? AND user_id = ?',
          tenantId,
          channelId,
          userId,
        ) > 0,
    );
    if (removed.length === 0) return removed;
    ctx.run(
      'UPDATE channels SET member_count = member_count - ? WHERE tenant_id = ? AND id = ?',
      removed.length,
      tenantId,
      channelId,
    );
    if (emit) ctx.appendEvents(tenantId, emit(removed));
    return removed;
  });
}

/** Read on every send and frame, so remembered until anything changes (see `SqliteContext.memo`). */
export function getMember(s: TenantScope, channelId: string, userId: string): Member | null {
  return s.ctx.memo(`member\u0000${s.tenantId}\u0000${channelId}\u0000${userId}`, () => {
    const row = s.ctx.one<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE tenant_id = ? AND channel_id = ? AND user_id = ?`,
      s.tenantId,
      channelId,
      userId,
    );
    return row ? toMember(row) : null;
  });
}

export function listMembers(s: TenantScope, channelId: string, opts: { limit: number; after?: string }): Page<Member> {
  const rows = s.ctx.all<MemberRow>(
    `SELECT ${MEMBER_COLUMNS} FROM members
     WHERE tenant_id = ? AND channel_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`,
    s.tenantId,
    channelId,
    opts.after ?? '',
    opts.limit + 1,
  );
  return pageOf(rows.map(toMember), opts.limit, (m) => m.userId);
}

/**
 * Raises the read mark to `seq`, capped at the channel's last seq (a mark beyond it would hide
 * messages not sent yet). A lower or equal seq changes nothing and emits nothing.
 */
export function markRead(
  s: TenantScope,
  channelId: string,
  userId: string,
  seq: number,
  at: string,
  emit?: Emit<Member>,
): Promise<Member | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const row = ctx.one<MemberRow & { last_seq: number }>(
      `SELECT ${MEMBER_COLUMNS},
         (SELECT last_seq FROM channels c
          WHERE c.tenant_id = members.tenant_id AND c.id = members.channel_id) AS last_seq
       FROM members WHERE tenant_id = ? AND channel_id = ? AND user_id = ?`,
      tenantId,
      channelId,
      userId,
    );
    if (!row) return null;
    const target = Math.min(seq, row.last_seq);
    const member = toMember(row);
    if (target <= member.lastReadSeq) return member;
    ctx.run(
      `UPDATE members SET last_read_seq = ?, last_read_at = ?
       WHERE tenant_id = ? AND channel_id = ? AND user_id = ?`,
      target,
      at,
      tenantId,
      channelId,
      userId,
    );
    const updated: Member = { ...member, lastReadSeq: target, lastReadAt: at };
    if (emit) ctx.appendEvents(tenantId, emit(updated));
    return updated;
  });
}
