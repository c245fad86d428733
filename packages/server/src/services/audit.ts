/**
 * The audit log: who did which moderation or admin action, to what, when, with the state before
 * and after. Services call {@link audit} right after the action succeeded; reading is for the
 * tenant backend and tenant admins.
 *
 * An entry is a separate write after the action, not part of its transaction (the store's
 * mutations take no audit argument): a crash between the two loses the entry, never the action.
 * A failed audit write fails the request, so the caller sees it and may retry (every audited
 * action is idempotent).
 *
 * @see docs/moderation.md
 */
import type { Actor } from '../domain/actor.js';
import { timeId } from '../domain/ids.js';
import { NatterError } from '../errors.js';
import type { AuditEntry, AuditQuery, Page, TenantStore } from '../ports/store.js';
import type { TenantCtx } from './context.js';

/** Audited actions. Extend this union (and docs/moderation.md) when auditing something new. */
export type AuditAction =
  | 'user.ban'
  | 'user.unban'
  | 'user.mute'
  | 'user.unmute'
  | 'member.kick'
  | 'member.remove'
  | 'channel.update'
  | 'channel.freeze'
  | 'channel.unfreeze'
  | 'channel.slow_mode'
  | 'channel.delete'
  | 'message.delete'
  | 'message.flag'
  | 'flag.resolve'
  | 'user.delete'
  | 'user.role'
  | 'key.issue'
  | 'key.revoke'
  | 'tenant.update'
  | 'tenant.policy';

export type AuditTargetType = 'user' | 'channel' | 'message' | 'flag' | 'apiKey' | 'tenant';

export interface AuditInput {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  /** JSON state before; omit or null when there was none. */
  before?: unknown;
  /** JSON state after; omit or null when nothing remains. */
  after?: unknown;
}

/** Where and as whom to write: a service context, or the platform admin acting on a tenant. */
export interface AuditScope {
  actor: Actor;
  db: TenantStore;
  deps: { now: () => Date };
}

/**
 * Appends one entry to the tenant's audit log, as the scope's actor, now.
 *
 * @example
 * // In the tenant policy route, after storing the new policy:
 * await audit(ctx, { action: 'tenant.policy', targetType: 'tenant', targetId: tenantId, before, after });
 */
export function audit(scope: TenantCtx | AuditScope, entry: AuditInput): Promise<AuditEntry> {
  const now = scope.deps.now();
  const { actor } = scope;
  return scope.db.appendAudit({
    id: timeId('au', now.getTime()),
    actorType: actor.kind,
    actorId: actor.kind === 'user' ? actor.user.id : null,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    at: now.toISOString(),
  });
}

/** Reading the log: the tenant backend and tenant admins only. */
export async function listAudit(ctx: TenantCtx, query: AuditQuery): Promise<Page<AuditEntry>> {
  const { actor } = ctx;
  if (actor.kind !== 'server' && actor.user.role !== 'admin') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Only the tenant backend and tenant admins read the audit log.');
  }
  return ctx.db.listAudit(query);
}
