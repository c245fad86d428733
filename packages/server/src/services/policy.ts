/**
 * Tenant policies: a tenant backend reads, replaces or extends the default authorization rules
 * (`GET`/`PUT`/`DELETE /v1/policy`). The policy is stored in the tenant's settings; abilities are
 * cached under its etag, so every request and every realtime frame after a change uses the new
 * rules. Live connections on this node also get `rules.updated` at once (through the hub); on
 * other nodes they get it with their next frame, which reads the tenant again.
 *
 * @see docs/security.md#tenant-policies
 */

import { DEFAULT_RULES } from '../domain/abilities-defaults.js';
import { type PolicyMode, type PolicyRule, type TenantPolicy, validateRules } from '../domain/abilities-policy.js';
import { randomId } from '../domain/ids.js';
import { invalid, NatterError } from '../errors.js';
import type { Store, TenantRecord } from '../ports/store.js';
import type { TenantActor } from './context.js';

/** Policy changes on this node, for whoever holds live connections (the realtime gateway). */
export interface PolicyHub {
  changed(tenantId: string): void;
  /** Returns the function that stops listening. */
  onChange(listener: (tenantId: string) => void): () => void;
}

export function createPolicyHub(): PolicyHub {
  const listeners = new Set<(tenantId: string) => void>();
  return {
    changed(tenantId) {
      for (const listener of listeners) listener(tenantId);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A tenant's policy as the API shows it. `default`: no policy of its own. */
export interface PolicyView {
  mode: PolicyMode | 'default';
  rules: PolicyRule[];
  etag: string | null;
  updatedAt: string | null;
}

export interface PolicyCtx {
  actor: TenantActor;
  tenant: TenantRecord;
}

function backendOnly(ctx: PolicyCtx): void {
  if (ctx.actor.kind !== 'server') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Only the tenant backend (API key) manages the policy.');
  }
}

function view(policy: TenantPolicy | undefined): PolicyView {
  if (!policy) return { mode: 'default', rules: [], etag: null, updatedAt: null };
  return { mode: policy.mode, rules: policy.rules, etag: policy.etag, updatedAt: policy.updatedAt };
}

/** The tenant's policy and, for reference, the default rules. */
export function getPolicy(ctx: PolicyCtx): { policy: PolicyView; defaultRules: PolicyRule[] } {
  backendOnly(ctx);
  return { policy: view(ctx.tenant.settings.policy), defaultRules: [...DEFAULT_RULES] };
}

async function storeSettings(store: Store, tenantId: string, policy: TenantPolicy | undefined): Promise<void> {
  // Read again right before writing: the settings may have changed since the request began.
  const current = await store.platform.getTenant(tenantId);
  if (!current) throw new NatterError('NATTER_AUTH_INVALID', 'The tenant of these credentials no longer exists.');
  const { policy: _, ...settings } = current.settings;
  await store.platform.updateTenant(tenantId, { settings: policy ? { ...settings, policy } : settings });
}

/**
 * Validates and stores a policy. Unknown subjects, actions, fields, operators or placeholders are
 * NATTER_REQUEST_INVALID naming the field.
 */
export async function putPolicy(
  ctx: PolicyCtx,
  store: Store,
  hub: PolicyHub,
  input: { mode: unknown; rules: unknown },
): Promise<PolicyView> {
  backendOnly(ctx);
  if (input.mode !== 'extend' && input.mode !== 'replace') throw invalid('body.mode', 'must be extend or replace');
  const policy: TenantPolicy = {
    mode: input.mode,
    rules: validateRules(input.rules),
    etag: randomId('pol', 9),
    updatedAt: new Date().toISOString(),
  };
  await storeSettings(store, ctx.tenant.id, policy);
  hub.changed(ctx.tenant.id);
  return view(policy);
}

/** Goes back to the default policy. */
export async function deletePolicy(ctx: PolicyCtx, store: Store, hub: PolicyHub): Promise<void> {
  backendOnly(ctx);
  await storeSettings(store, ctx.tenant.id, undefined);
  hub.changed(ctx.tenant.id);
}
