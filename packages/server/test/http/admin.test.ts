/**
 * Platform administration: `/v1/admin/tenants…`, reachable with the platform-admin key only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, createTenant, createUsers, startTestServer, type TestServer, userClient } from '../harness.js';
import { expectError } from './assertions.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('POST /v1/admin/tenants', () => {
  it('creates a tenant and its first API key, which works at once; the signing secret never shows', async () => {
    const res = await h.admin.post('/v1/admin/tenants', {
      name: 'Acme',
      settings: { allowedOrigins: ['https://acme.test'] },
    });
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({ name: 'Acme', settings: { allowedOrigins: ['https://acme.test'] } });
    expect(res.body.tenant).not.toHaveProperty('signingSecret');
    expect(JSON.stringify(res.body)).not.toContain(
      (await h.server.store.platform.getTenant(res.body.tenant.id))?.signingSecret,
    );
    expect(res.body.apiKey).toEqual({
      id: expect.any(String),
      secret: expect.any(String),
      createdAt: expect.any(String),
    });
    const backend = h.api({ basic: [res.body.apiKey.id, res.body.apiKey.secret] });
    expect((await backend.get('/v1/users')).status).toBe(200);
  });

  it('takes a chosen id; a taken id is refused naming the field', async () => {
    const res = await h.admin.post('/v1/admin/tenants', { id: 'chosen-id', name: 'Chosen' });
    expect(res.status).toBe(201);
    expect(res.body.tenant.id).toBe('chosen-id');
    expectError(
      await h.admin.post('/v1/admin/tenants', { id: 'chosen-id', name: 'Again' }),
      'NATTER_REQUEST_INVALID',
      'id',
    );
  });

  it.each([
    ['a missing name', {}, 'body.name'],
    ['an empty name', { name: '' }, 'body.name'],
    ['a name of the wrong type', { name: 42 }, 'body.name'],
    ['an unknown field', { name: 'x', plan: 'gold' }, 'body.plan'],
    ['an id with forbidden characters', { id: 'a b', name: 'x' }, 'body.id'],
    ['an unknown setting', { name: 'x', settings: { colour: 'red' } }, 'body.settings.colour'],
    [
      'a setting of the wrong type',
      { name: 'x', settings: { maxMessageLength: '10' } },
      'body.settings.maxMessageLength',
    ],
  ])('refuses %s', async (_what, body, field) => {
    expectError(await h.admin.post('/v1/admin/tenants', body), 'NATTER_REQUEST_INVALID', field);
  });
});

describe('GET /v1/admin/tenants', () => {
  it('pages through tenants with limit and after', async () => {
    await createTenant(h);
    await createTenant(h);
    const first = await h.admin.get('/v1/admin/tenants?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0]).not.toHaveProperty('signingSecret');
    expect(first.body.next).toEqual(expect.any(String));
    const second = await h.admin.get(`/v1/admin/tenants?limit=1&after=${encodeURIComponent(first.body.next)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    const all = await h.admin.get('/v1/admin/tenants?limit=200');
    expect(all.body.next).toBeNull();
    expect(all.body.items.length).toBeGreaterThanOrEqual(2);
  });

  it.each([['limit=0'], ['limit=201'], ['limit=many'], ['sort=name']])('refuses the query %s', async (query) => {
    expectError(await h.admin.get(`/v1/admin/tenants?${query}`), 'NATTER_REQUEST_INVALID');
  });
});

describe('GET and PATCH /v1/admin/tenants/:tenantId', () => {
  it('gets a tenant; an unknown one is 404', async () => {
    const t = await createTenant(h, 'Gettable');
    const res = await h.admin.get(`/v1/admin/tenants/${t.tenantId}`);
    expect(res.status).toBe(200);
    expect(res.body.tenant).toMatchObject({ id: t.tenantId, name: 'Gettable' });
    expect(res.body.tenant).not.toHaveProperty('signingSecret');
    expectError(await h.admin.get('/v1/admin/tenants/no-such-tenant'), 'NATTER_TENANT_NOT_FOUND', 'tenantId');
    expectError(await h.admin.get('/v1/admin/tenants/bad%20id'), 'NATTER_REQUEST_INVALID', 'params.tenantId');
  });

  it('renames and merges settings (a setting left out keeps its value)', async () => {
    const res = await h.admin.post('/v1/admin/tenants', {
      name: 'Before',
      settings: { allowedOrigins: ['https://a.test'] },
    });
    const id = res.body.tenant.id;
    const renamed = await h.admin.patch(`/v1/admin/tenants/${id}`, { name: 'After' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.tenant).toMatchObject({ name: 'After', settings: { allowedOrigins: ['https://a.test'] } });
    const patched = await h.admin.patch(`/v1/admin/tenants/${id}`, { settings: { maxMessageLength: 5 } });
    expect(patched.body.tenant.settings).toEqual({ allowedOrigins: ['https://a.test'], maxMessageLength: 5 });
    expect(patched.body.tenant.name).toBe('After');
  });

  it("applies the tenant's maxMessageLength to its sends", async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann']);
    const ch = await createChannel(t.api, { type: 'group', members: ['ann'] });
    expect((await h.admin.patch(`/v1/admin/tenants/${t.tenantId}`, { settings: { maxMessageLength: 5 } })).status).toBe(
      200,
    );
    const ann = await userClient(t, 'ann');
    expect((await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: '12345' })).status).toBe(201);
    expectError(
      await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: '123456' }),
      'NATTER_REQUEST_INVALID',
      'text',
    );
  });

  it('refuses bad patches and unknown tenants', async () => {
    const t = await createTenant(h);
    expectError(
      await h.admin.patch(`/v1/admin/tenants/${t.tenantId}`, { signingSecret: 'x' }),
      'NATTER_REQUEST_INVALID',
      'body.signingSecret',
    );
    expectError(
      await h.admin.patch(`/v1/admin/tenants/${t.tenantId}`, { name: '' }),
      'NATTER_REQUEST_INVALID',
      'body.name',
    );
    expectError(
      await h.admin.patch(`/v1/admin/tenants/${t.tenantId}`, { settings: { maxMessageLength: 0 } }),
      'NATTER_REQUEST_INVALID',
      'body.settings.maxMessageLength',
    );
    expectError(
      await h.admin.patch('/v1/admin/tenants/no-such-tenant', { name: 'x' }),
      'NATTER_TENANT_NOT_FOUND',
      'tenantId',
    );
  });
});

describe('DELETE /v1/admin/tenants/:tenantId', () => {
  it('deletes the tenant with all its data; its keys and tokens stop working', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann', 'bob']);
    const ann = await userClient(t, 'ann');
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    expect((await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hi' })).status).toBe(201);
    const other = await createTenant(h);
    await createUsers(other, ['ann']);

    const res = await h.admin.delete(`/v1/admin/tenants/${t.tenantId}`);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');

    expectError(await t.api.get('/v1/users'), 'NATTER_AUTH_INVALID');
    expectError(await ann.api.get('/v1/me'), 'NATTER_AUTH_INVALID');
    expectError(await h.admin.get(`/v1/admin/tenants/${t.tenantId}`), 'NATTER_TENANT_NOT_FOUND');
    expectError(await h.admin.get(`/v1/admin/tenants/${t.tenantId}/keys`), 'NATTER_TENANT_NOT_FOUND');
    const gone = h.server.store.tenant(t.tenantId);
    expect(await gone.getUser('ann')).toBeNull();
    expect(await gone.getChannel(ch.id)).toBeNull();
    expect(await gone.listMessages(ch.id, { limit: 10, includeReplies: true })).toEqual([]);
    expect(await h.server.store.platform.listApiKeys(t.tenantId)).toEqual([]);
    // Another tenant's data is untouched.
    expect((await other.api.get('/v1/users/ann')).status).toBe(200);
    expectError(await h.admin.delete(`/v1/admin/tenants/${t.tenantId}`), 'NATTER_TENANT_NOT_FOUND', 'tenantId');
  });
});

describe('tenant API keys (platform side)', () => {
  it('issues, lists and revokes keys: rotation keeps the tenant reachable', async () => {
    const t = await createTenant(h);
    const issued = await h.admin.post(`/v1/admin/tenants/${t.tenantId}/keys`);
    expect(issued.status).toBe(201);
    const fresh = h.api({ basic: [issued.body.apiKey.id, issued.body.apiKey.secret] });
    expect((await fresh.get('/v1/users')).status).toBe(200);

    const list = await h.admin.get(`/v1/admin/tenants/${t.tenantId}/keys`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { id: string }) => k.id).sort()).toEqual([t.key[0], issued.body.apiKey.id].sort());
    for (const key of list.body.items) {
      expect(Object.keys(key).sort()).toEqual(['createdAt', 'id', 'revokedAt', 'tenantId']);
      expect(key.tenantId).toBe(t.tenantId);
    }

    expect((await h.admin.delete(`/v1/admin/tenants/${t.tenantId}/keys/${t.key[0]}`)).status).toBe(204);
    expectError(await t.api.get('/v1/users'), 'NATTER_AUTH_INVALID');
    expect((await fresh.get('/v1/users')).status).toBe(200);
    const after = await h.admin.get(`/v1/admin/tenants/${t.tenantId}/keys`);
    const revoked = after.body.items.find((k: { id: string }) => k.id === t.key[0]);
    expect(revoked.revokedAt).toEqual(expect.any(String));
  });

  it("refuses unknown tenants and keys, and another tenant's key under this tenant", async () => {
    const t = await createTenant(h);
    const other = await createTenant(h);
    expectError(await h.admin.post('/v1/admin/tenants/no-such-tenant/keys'), 'NATTER_TENANT_NOT_FOUND', 'tenantId');
    expectError(await h.admin.get('/v1/admin/tenants/no-such-tenant/keys'), 'NATTER_TENANT_NOT_FOUND', 'tenantId');
    expectError(await h.admin.delete(`/v1/admin/tenants/${t.tenantId}/keys/ak_nope`), 'NATTER_KEY_NOT_FOUND', 'keyId');
    expectError(
      await h.admin.delete(`/v1/admin/tenants/${t.tenantId}/keys/${other.key[0]}`),
      'NATTER_KEY_NOT_FOUND',
      'keyId',
    );
    expect((await other.api.get('/v1/users')).status).toBe(200);
    // The platform key cannot be revoked through a tenant path either.
    expectError(await h.admin.delete(`/v1/admin/tenants/${t.tenantId}/keys/${h.adminKey[0]}`), 'NATTER_KEY_NOT_FOUND');
    expect((await h.admin.get('/v1/admin/tenants')).status).toBe(200);
  });
});

describe('who may use /v1/admin', () => {
  const routes: [string, string][] = [
    ['POST', '/v1/admin/tenants'],
    ['GET', '/v1/admin/tenants'],
    ['GET', '/v1/admin/tenants/t1'],
    ['PATCH', '/v1/admin/tenants/t1'],
    ['DELETE', '/v1/admin/tenants/t1'],
    ['POST', '/v1/admin/tenants/t1/keys'],
    ['GET', '/v1/admin/tenants/t1/keys'],
    ['DELETE', '/v1/admin/tenants/t1/keys/k1'],
  ];

  it.each(routes)(
    '%s %s: no credentials 401, wrong secret 401, tenant key and user token 403',
    async (method, path) => {
      const t = await createTenant(h);
      await createUsers(t, [{ id: 'boss', role: 'admin' }]);
      const boss = await userClient(t, 'boss');
      const body = method === 'POST' || method === 'PATCH' ? { body: { name: 'x' } } : {};
      expectError(await h.api(null).request(method, path, body), 'NATTER_AUTH_MISSING');
      expectError(await h.api({ basic: [h.adminKey[0], 'wrong'] }).request(method, path, body), 'NATTER_AUTH_INVALID');
      expectError(await t.api.request(method, path, body), 'NATTER_AUTH_FORBIDDEN');
      expectError(await boss.api.request(method, path, body), 'NATTER_AUTH_FORBIDDEN');
    },
  );
});
