/**
 * Bans and mutes of a tenant on SQLite. A NULL `channel_id` is tenant-wide; the unique key
 * indexes `ifnull(channel_id, '')` so that there is one record per kind, user and scope, and
 * every query on a scope names that same expression to use it.
 */
import type { Emit, Page, Sanction, SanctionChange, SanctionKind, SanctionQuery } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';

interface SanctionRow {
  kind: SanctionKind;
  user_id: string;
  channel_id: string | null;
  reason: string | null;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
}

const COLUMNS = 'kind, user_id, channel_id, reason, created_by, created_at, expires_at';
const BY_KEY = `tenant_id = ? AND kind = ? AND ifnull(channel_id, '') = ? AND user_id = ?`;
const IN_FORCE = '(expires_at IS NULL OR expires_at > ?)';

function toSanction(r: SanctionRow): Sanction {
  return {
    kind: r.kind,
    userId: r.user_id,
    channelId: r.channel_id,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

function getSanction(s: TenantScope, kind: SanctionKind, userId: string, channelId: string | null): Sanction | null {
  const row = s.ctx.one<SanctionRow>(
    `SELECT ${COLUMNS} FROM sanctions WHERE ${BY_KEY}`,
    s.tenantId,
    kind,
    channelId ?? '',
    userId,
  );
  return row ? toSanction(row) : null;
}

export function putSanction(s: TenantScope, sanction: Sanction, emit?: Emit<SanctionChange>): Promise<SanctionChange> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const previous = getSanction(s, sanction.kind, sanction.userId, sanction.channelId);
    if (previous)
      ctx.run(
        `DELETE FROM sanctions WHERE ${BY_KEY}`,
        tenantId,
        sanction.kind,
        sanction.channelId ?? '',
        sanction.userId,
      );
    ctx.run(
      `INSERT INTO sanctions (tenant_id, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      tenantId,
      sanction.kind,
      sanction.userId,
      sanction.channelId,
      sanction.reason,
      sanction.createdBy,
      sanction.createdAt,
      sanction.expiresAt,
    );
    const change: SanctionChange = { sanction: { ...sanction }, previous };
    if (emit) ctx.appendEvents(tenantId, emit(change));
    return change;
  });
}

export function removeSanction(
  s: TenantScope,
  kind: SanctionKind,
  userId: string,
  channelId: string | null,
  emit?: Emit<Sanction>,
): Promise<Sanction | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const current = getSanction(s, kind, userId, channelId);
    if (!current) return null;
    ctx.run(`DELETE FROM sanctions WHERE ${BY_KEY}`, tenantId, kind, channelId ?? '', userId);
    if (emit) ctx.appendEvents(tenantId, emit(current));
    return current;
  });
}

/**
 * Read on every send, so the user's sanctions in the scope are remembered until anything changes
 * (see `SqliteContext.memo`) and the ones in force at `at` are picked from them.
 */
export function activeSanctions(s: TenantScope, userId: string, channelId: string | null, at: string): Sanction[] {
  const all = s.ctx.memo(`sanctions\u0000${s.tenantId}\u0000${userId}\u0000${channelId ?? ''}`, () =>
    s.ctx
      .all<SanctionRow>(
        `SELECT ${COLUMNS} FROM sanctions
         WHERE tenant_id = ? AND user_id = ? AND (channel_id IS NULL OR channel_id = ?)
         ORDER BY kind, channel_id`,
        s.tenantId,
        userId,
        channelId,
      )
      .map(toSanction),
  );
  return all.filter((x) => x.expiresAt === null || x.expiresAt > at);
}

export function listSanctions(s: TenantScope, q: SanctionQuery): Page<Sanction> {
  const rows = s.ctx.all<SanctionRow>(
    `SELECT ${COLUMNS} FROM sanctions
     WHERE tenant_id = ? AND kind = ? AND ifnull(channel_id, '') = ? AND user_id > ? AND ${IN_FORCE}
     ORDER BY user_id LIMIT ?`,
    s.tenantId,
    q.kind,
    q.channelId ?? '',
    q.after ?? '',
    q.at,
    q.limit + 1,
  );
  return pageOf(rows.map(toSanction), q.limit, (x) => x.userId);
}
