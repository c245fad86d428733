/**
 * Turns a request's credentials into the context services need. Tenant data is reached only
 * through the tenant-scoped store handle made here, from the authenticated tenant id.
 */
import type { FastifyRequest } from 'fastify';
import { NatterError } from '../errors.js';
import type { Store, TenantRecord } from '../ports/store.js';
import { authenticate } from '../services/auth.js';
import type { ServiceDeps, TenantCtx } from '../services/context.js';
import { checkRate } from '../services/rate-limits.js';

export interface RequestTenantCtx extends TenantCtx {
  tenant: TenantRecord;
}

export async function tenantContext(
  store: Store,
  services: ServiceDeps,
  request: FastifyRequest,
): Promise<RequestTenantCtx> {
  const actor = await authenticate(store, request.headers.authorization);
  if (actor.kind === 'platform') {
    throw new NatterError(
      'NATTER_AUTH_FORBIDDEN',
      'Platform keys manage tenants; use a tenant API key or a user token.',
    );
  }
  const tenant = await store.platform.getTenant(actor.tenantId);
  if (!tenant) throw new NatterError('NATTER_AUTH_INVALID', 'The tenant of these credentials no longer exists.');
  await checkRate(services.limiter, services.rateLimits, tenant, actor);
  const deps =
    tenant.settings.maxMessageLength === undefined
      ? services
      : { ...services, limits: { ...services.limits, maxMessageLength: tenant.settings.maxMessageLength } };
  return { actor, db: store.tenant(tenant.id), deps, tenant };
}

export async function requirePlatform(store: Store, request: FastifyRequest): Promise<void> {
  const actor = await authenticate(store, request.headers.authorization);
  if (actor.kind !== 'platform') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'This route needs a platform-admin API key.');
  }
}
