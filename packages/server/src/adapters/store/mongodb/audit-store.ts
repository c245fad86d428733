/**
 * The audit log of a tenant on MongoDB: append-only, read newest first (by id, which the caller
 * makes time-ordered). `before` and `after` are JSON text, as in the SQLite store.
 */
import type { Filter } from 'mongodb';
import type { AuditActorType, AuditEntry, AuditQuery, Emit, Page } from '../../../ports/store.js';
import { type TenantScope, write } from './connection.js';
import { docKey } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { limitOf, optStr, str, strOrNull } from './inputs.js';
import { type AuditDoc, stateJson, toAudit } from './moderation-documents.js';
import { pageOf } from './paging.js';

export function appendAudit(s: TenantScope, entry: AuditEntry, emit?: Emit<AuditEntry>): Promise<AuditEntry> {
  const { ctx, tenantId } = s;
  const doc: AuditDoc = {
    _id: docKey(tenantId, str(entry.id, 'id')),
    tenantId,
    id: entry.id,
    actorType: str(entry.actorType, 'actorType') as AuditActorType,
    actorId: strOrNull(entry.actorId, 'actorId'),
    action: str(entry.action, 'action'),
    targetType: str(entry.targetType, 'targetType'),
    targetId: str(entry.targetId, 'targetId'),
    before: stateJson(entry.before),
    after: stateJson(entry.after),
    at: str(entry.at, 'at'),
  };
  return write(s, emit !== undefined, async () => {
    const cols = await ctx.writable(tenantId);
    // What a reader will get back: the states as stored (JSON round trip).
    const stored = toAudit(doc);
    const events = emit ? emit(stored) : [];
    try {
      await cols.audit.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new Error(`audit entry ${doc.id} exists`);
      throw err;
    }
    return { result: stored, events };
  });
}

/** Entries newest first (by id descending); `after` is the last id of the previous page. */
export async function listAudit(s: TenantScope, q: AuditQuery): Promise<Page<AuditEntry>> {
  const limit = limitOf(q.limit);
  const filter: Filter<AuditDoc> = { tenantId: s.tenantId };
  const after = optStr(q.after, 'after');
  if (after !== undefined) filter.id = { $lt: after };
  if (q.action !== undefined) filter.action = str(q.action, 'action');
  if (q.targetType !== undefined) filter.targetType = str(q.targetType, 'targetType');
  if (q.targetId !== undefined) filter.targetId = str(q.targetId, 'targetId');
  const docs = await s.ctx
    .readable(s.tenantId)
    .audit.find(filter)
    .sort({ id: -1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toAudit), limit, (e) => e.id);
}
