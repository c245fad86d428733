/**
 * The audit log of a tenant on SQLite: append-only, read newest first. `before` and `after` are
 * JSON text (the JSON `null` when there is no state).
 */
import type { AuditActorType, AuditEntry, AuditQuery, Emit, Page } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';

interface AuditRow {
  id: string;
  actor_type: AuditActorType;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before_state: string;
  after_state: string;
  at: string;
}

const COLUMNS = 'id, actor_type, actor_id, action, target_type, target_id, before_state, after_state, at';

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    actorType: r.actor_type,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    before: JSON.parse(r.before_state) as unknown,
    after: JSON.parse(r.after_state) as unknown,
    at: r.at,
  };
}

/** JSON of a state; `undefined` (no state) is stored as null. */
const json = (value: unknown): string => JSON.stringify(value ?? null);

export function appendAudit(s: TenantScope, entry: AuditEntry, emit?: Emit<AuditEntry>): Promise<AuditEntry> {
  const { ctx, tenantId } = s;
  const before = json(entry.before);
  const after = json(entry.after);
  return ctx.write(() => {
    ctx.run(
      `INSERT INTO audit_log (tenant_id, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      tenantId,
      entry.id,
      entry.actorType,
      entry.actorId,
      entry.action,
      entry.targetType,
      entry.targetId,
      before,
      after,
      entry.at,
    );
    // What a reader will get back: the states as stored (JSON round trip).
    const stored: AuditEntry = { ...entry, before: JSON.parse(before) as unknown, after: JSON.parse(after) as unknown };
    if (emit) ctx.appendEvents(tenantId, emit(stored));
    return stored;
  });
}

export function listAudit(s: TenantScope, q: AuditQuery): Page<AuditEntry> {
  const params: unknown[] = [s.tenantId];
  let where = 'tenant_id = ?';
  if (q.after !== undefined) {
    where += ' AND id < ?';
    params.push(q.after);
  }
  if (q.action !== undefined) {
    where += ' AND action = ?';
    params.push(q.action);
  }
  if (q.targetType !== undefined) {
    where += ' AND target_type = ?';
    params.push(q.targetType);
  }
  if (q.targetId !== undefined) {
    where += ' AND target_id = ?';
    params.push(q.targetId);
  }
  const rows = s.ctx.all<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_log WHERE ${where} ORDER BY id DESC LIMIT ?`,
    ...params,
    q.limit + 1,
  );
  return pageOf(rows.map(toEntry), q.limit, (e) => e.id);
}
