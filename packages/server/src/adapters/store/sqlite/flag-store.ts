/**
 * Message flags (the moderation queue) of a tenant on SQLite. A partial unique index keeps one
 * open flag per (message, reporter); resolved flags leave it, so a message can be flagged again.
 */
import type {
  Emit,
  Flag,
  FlagInput,
  FlagQuery,
  FlagResolution,
  FlagResolutionInput,
  FlagStatus,
  Page,
} from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';

interface FlagRow {
  id: string;
  message_id: string;
  channel_id: string;
  reporter_id: string | null;
  reason: string;
  status: FlagStatus;
  created_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: FlagResolution | null;
}

const COLUMNS = `id, message_id, channel_id, reporter_id, reason, status, created_at, resolved_at,
  resolved_by, resolution`;

function toFlag(r: FlagRow): Flag {
  return {
    id: r.id,
    messageId: r.message_id,
    channelId: r.channel_id,
    reporterId: r.reporter_id,
    reason: r.reason,
    status: r.status,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
  };
}

export function getFlag(s: TenantScope, id: string): Flag | null {
  const row = s.ctx.one<FlagRow>(`SELECT ${COLUMNS} FROM flags WHERE tenant_id = ? AND id = ?`, s.tenantId, id);
  return row ? toFlag(row) : null;
}

export function addFlag(
  s: TenantScope,
  input: FlagInput,
  emit?: Emit<Flag>,
): Promise<{ flag: Flag; created: boolean }> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const open = ctx.one<FlagRow>(
      `SELECT ${COLUMNS} FROM flags
       WHERE tenant_id = ? AND message_id = ? AND ifnull(reporter_id, '') = ? AND status = 'open'`,
      tenantId,
      input.messageId,
      input.reporterId ?? '',
    );
    if (open) return { flag: toFlag(open), created: false };
    const flag: Flag = {
      ...input,
      status: 'open',
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
    };
    ctx.run(
      `INSERT INTO flags (tenant_id, id, message_id, channel_id, reporter_id, reason, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'open', ?)`,
      tenantId,
      flag.id,
      flag.messageId,
      flag.channelId,
      flag.reporterId,
      flag.reason,
      flag.createdAt,
    );
    if (emit) ctx.appendEvents(tenantId, emit(flag));
    return { flag, created: true };
  });
}

export function listFlags(s: TenantScope, q: FlagQuery): Page<Flag> {
  const params: unknown[] = [s.tenantId, q.after ?? ''];
  let where = 'tenant_id = ? AND id > ?';
  if (q.status !== undefined) {
    where += ' AND status = ?';
    params.push(q.status);
  }
  if (q.channelId !== undefined) {
    where += ' AND channel_id = ?';
    params.push(q.channelId);
  }
  if (q.messageId !== undefined) {
    where += ' AND message_id = ?';
    params.push(q.messageId);
  }
  const rows = s.ctx.all<FlagRow>(
    `SELECT ${COLUMNS} FROM flags WHERE ${where} ORDER BY id LIMIT ?`,
    ...params,
    q.limit + 1,
  );
  return pageOf(rows.map(toFlag), q.limit, (f) => f.id);
}

export function resolveFlags(
  s: TenantScope,
  ids: string[],
  input: FlagResolutionInput,
  emit?: Emit<Flag[]>,
): Promise<Flag[]> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const resolved: Flag[] = [];
    for (const id of new Set(ids)) {
      const current = getFlag(s, id);
      if (current?.status !== 'open') continue;
      ctx.run(
        `UPDATE flags SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ?
         WHERE tenant_id = ? AND id = ?`,
        input.resolvedAt,
        input.resolvedBy,
        input.resolution,
        tenantId,
        id,
      );
      resolved.push({ ...current, status: 'resolved', ...input });
    }
    if (emit && resolved.length > 0) ctx.appendEvents(tenantId, emit(resolved));
    return resolved;
  });
}
