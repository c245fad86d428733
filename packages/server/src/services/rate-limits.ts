/**
 * Which buckets a request draws from: one per user (or per backend key) and one per tenant, with
 * the server's defaults or the tenant's own settings. Shared by REST and realtime writes.
 */
import type { Actor } from '../domain/actor.js';
import { NatterError } from '../errors.js';
import type { RateLimiter, RateRule } from '../ports/rate-limit.js';
import type { TenantRecord } from '../ports/store.js';

export interface RateLimitDefaults {
  /** Requests + write frames per second per user. */
  user: RateRule;
  /** Requests + write frames per second per tenant (all its users and its backend). */
  tenant: RateRule;
}

/** Throws NATTER_RATE_LIMITED (with retryAfter) when a bucket is empty. */
export async function checkRate(
  limiter: RateLimiter,
  defaults: RateLimitDefaults,
  tenant: TenantRecord,
  actor: Exclude<Actor, { kind: 'platform' }>,
): Promise<void> {
  const own = tenant.settings.rateLimits;
  const userRule = own?.userPerSecond ? { rate: own.userPerSecond, burst: own.userPerSecond * 2 } : defaults.user;
  const tenantRule = own?.tenantPerSecond
    ? { rate: own.tenantPerSecond, burst: own.tenantPerSecond * 2 }
    : defaults.tenant;
  const who = actor.kind === 'user' ? `u/${tenant.id}/${actor.user.id}` : `b/${tenant.id}`;
  // The backend is bounded by the tenant bucket only: it acts for all users.
  if (actor.kind === 'user') {
    const user = await limiter.take(who, userRule);
    if (!user.allowed) throw limited(user.retryAfter, 'user');
  }
  const all = await limiter.take(`t/${tenant.id}`, tenantRule);
  if (!all.allowed) throw limited(all.retryAfter, 'tenant');
}

function limited(retryAfter: number, scope: 'user' | 'tenant'): NatterError {
  return new NatterError('NATTER_RATE_LIMITED', `Too many requests for this ${scope}; retry in ${retryAfter} s.`, {
    retryAfter,
    scope,
  });
}
