/**
 * Platform administration: tenants and their API keys. Needs a platform-admin API key.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NatterError } from '../../errors.js';
import { type AuditInput, audit } from '../../services/audit.js';
import { createTenant, issueKey, publicKey, publicTenant, requireTenant } from '../../services/tenants.js';
import type { HttpDeps } from '../app.js';
import { requirePlatform } from '../request-context.js';
import {
  ApiKey,
  errorResponses,
  Id,
  IssuedKey,
  PageOf,
  PageQuery,
  security as schemaSecurity,
  Tenant,
  TenantSettings,
} from '../schemas.js';

const TenantParams = Type.Object({ tenantId: Id });
const tags = ['platform admin'];
const security = schemaSecurity.apiKey;

export const adminRoutes: FastifyPluginAsync<HttpDeps> = async (fastify, { store, bus, search, services }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', async (request) => requirePlatform(store, request));
  /** Writes to the tenant's audit log as the platform admin. */
  const platformAudit = (tenantId: string, entry: AuditInput) =>
    audit({ actor: { kind: 'platform' }, db: store.tenant(tenantId), deps: services }, entry);
  const keyState = (key: { id: string; createdAt: string; revokedAt?: string | null }) => ({
    id: key.id,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt ?? null,
  });

  app.post(
    '/tenants',
    {
      schema: {
        tags,
        security,
        summary: 'Create a tenant and its first API key',
        body: Type.Object(
          {
            id: Type.Optional(Id),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            settings: Type.Optional(TenantSettings),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ tenant: Tenant, apiKey: IssuedKey }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await createTenant(store, request.body);
      await platformAudit(created.tenant.id, {
        action: 'key.issue',
        targetType: 'apiKey',
        targetId: created.apiKey.id,
        before: null,
        after: keyState(created.apiKey),
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/tenants',
    {
      schema: {
        tags,
        security,
        summary: 'List tenants',
        querystring: PageQuery,
        response: { 200: PageOf(Tenant), ...errorResponses },
      },
    },
    async (request) => {
      const page = await store.platform.listTenants({
        limit: request.query.limit ?? 50,
        ...(request.query.after ? { after: request.query.after } : {}),
      });
      return { items: page.items.map(publicTenant), next: page.next };
    },
  );

  app.get(
    '/tenants/:tenantId',
    {
      schema: {
        tags,
        security,
        summary: 'Get a tenant',
        params: TenantParams,
        response: { 200: Type.Object({ tenant: Tenant }), ...errorResponses },
      },
    },
    async (request) => ({ tenant: publicTenant(await requireTenant(store, request.params.tenantId)) }),
  );

  app.patch(
    '/tenants/:tenantId',
    {
      schema: {
        tags,
        security,
        summary: 'Update a tenant',
        params: TenantParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            settings: Type.Optional(TenantSettings),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ tenant: Tenant }), ...errorResponses },
      },
    },
    async (request) => {
      const current = await requireTenant(store, request.params.tenantId);
      const { name, settings } = request.body;
      const tenant = await store.platform.updateTenant(current.id, {
        ...(name !== undefined ? { name } : {}),
        ...(settings !== undefined ? { settings: { ...current.settings, ...settings } } : {}),
      });
      if (!tenant) throw new NatterError('NATTER_TENANT_NOT_FOUND', undefined, { field: 'tenantId' });
      const { name: beforeName, settings: beforeSettings } = current;
      await platformAudit(tenant.id, {
        action: 'tenant.update',
        targetType: 'tenant',
        targetId: tenant.id,
        before: { name: beforeName, settings: beforeSettings },
        after: { name: tenant.name, settings: tenant.settings },
      });
      return { tenant: publicTenant(tenant) };
    },
  );

  app.delete(
    '/tenants/:tenantId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a tenant and all its data',
        params: TenantParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await store.platform.deleteTenant(request.params.tenantId))) {
        throw new NatterError('NATTER_TENANT_NOT_FOUND', undefined, { field: 'tenantId' });
      }
      bus.signal({ event: 'tenant.deleted', tenantId: request.params.tenantId });
      await search.removeTenant(request.params.tenantId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/tenants/:tenantId/keys',
    {
      schema: {
        tags,
        security,
        summary: 'Issue a new API key for a tenant (rotation: issue, deploy, revoke the old one)',
        params: TenantParams,
        response: { 201: Type.Object({ apiKey: IssuedKey }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenant = await requireTenant(store, request.params.tenantId);
      const apiKey = await issueKey(store, tenant.id);
      await platformAudit(tenant.id, {
        action: 'key.issue',
        targetType: 'apiKey',
        targetId: apiKey.id,
        before: null,
        after: keyState(apiKey),
      });
      return reply.status(201).send({ apiKey });
    },
  );

  app.get(
    '/tenants/:tenantId/keys',
    {
      schema: {
        tags,
        security,
        summary: "List a tenant's API keys",
        params: TenantParams,
        response: { 200: Type.Object({ items: Type.Array(ApiKey) }), ...errorResponses },
      },
    },
    async (request) => {
      const tenant = await requireTenant(store, request.params.tenantId);
      return { items: (await store.platform.listApiKeys(tenant.id)).map(publicKey) };
    },
  );

  app.delete(
    '/tenants/:tenantId/keys/:keyId',
    {
      schema: {
        tags,
        security,
        summary: 'Revoke an API key',
        params: Type.Object({ tenantId: Id, keyId: Id }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId, keyId } = request.params;
      const before = await store.platform.getApiKey(keyId);
      if (!(await store.platform.revokeApiKey(tenantId, keyId))) {
        throw new NatterError('NATTER_KEY_NOT_FOUND', undefined, { field: 'keyId' });
      }
      const after = await store.platform.getApiKey(keyId);
      await platformAudit(tenantId, {
        action: 'key.revoke',
        targetType: 'apiKey',
        targetId: keyId,
        before: before && keyState(before),
        after: after && keyState(after),
      });
      return reply.status(204).send(null);
    },
  );
};
