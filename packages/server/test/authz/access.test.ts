/**
 * Policy table rows about member lists, users, the policy itself and the platform: who may list
 * and change members, read profiles and presence, manage users, the policy and tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import {
  type Cast,
  cast,
  direct,
  expectForbidden,
  expectHidden,
  expectOk,
  group,
  publicChannel,
  support,
} from './helpers.js';

let h: TestServer;
let c: Cast;
beforeAll(async () => {
  h = await startTestServer();
  c = await cast(h);
});
afterAll(async () => {
  await c.closeSockets();
  await h.close();
});

describe('member lists', () => {
  it("[member.read] members list members; users list public channels' members too, guests not; moderators all but direct ones", async () => {
    const g = await group(c);
    const pub = await publicChannel(c);
    const s = await support(c);
    const dm = await direct(c);
    const list = (who: Parameters<Cast['as']>[0], id: string) => c.as(who).get(`/v1/channels/${id}/members`);
    expectOk(await list('bob', g.id));
    expectHidden(await list('cat', g.id));
    expectOk(await list('cat', pub.id));
    expectForbidden(await list('gus', pub.id));
    expectOk(await list('gus', s.id));
    expectOk(await list('mod', g.id));
    expectHidden(await list('mod', dm.id));
    expectOk(await list('boss', dm.id));
  });

  it('[member.manage] managers and admins add and remove others; members and tenant moderators may not', async () => {
    const g = await group(c);
    expectOk(await c.as('ann').post(`/v1/channels/${g.id}/members`, { members: ['cat'] }));
    expect((await c.as('ann').delete(`/v1/channels/${g.id}/members/cat`)).status).toBe(204);
    expectOk(await c.as('boss').post(`/v1/channels/${g.id}/members`, { members: ['cat'] }));
    expectForbidden(await c.as('bob').post(`/v1/channels/${g.id}/members`, { members: ['vic'] }));
    expectForbidden(await c.as('bob').delete(`/v1/channels/${g.id}/members/cat`));
    expectForbidden(await c.as('mod').post(`/v1/channels/${g.id}/members`, { members: ['vic'] }));
    expectForbidden(await c.as('mod').delete(`/v1/channels/${g.id}/members/cat`));
    expect((await c.as('boss').delete(`/v1/channels/${g.id}/members/cat`)).status).toBe(204);
  });
});

describe('users', () => {
  it('[user.read] every user of the tenant sees profiles and presence, guests included', async () => {
    expect((await c.as('gus').get('/v1/users/ann')).body.user.id).toBe('ann');
    const gus = await c.connect('gus');
    expect((await gus.request({ type: 'presence.subscribe', userIds: ['ann'] })).presence).toEqual([
      { userId: 'ann', online: false },
    ]);
    await gus.close();
    expectError(await h.api({ basic: h.adminKey }).get('/v1/users/ann'), 'NATTER_AUTH_FORBIDDEN');
  });

  it('[user.manage] only the backend manages users, tokens and API keys', async () => {
    expectOk(await c.backend.post('/v1/users', { users: [{ id: 'newbie' }] }));
    for (const who of ['boss', 'ann'] as const) {
      expectForbidden(await c.as(who).post('/v1/users', { users: [{ id: 'x', role: 'admin' }] }));
      expectForbidden(await c.as(who).post('/v1/users/ann/tokens'));
      expectForbidden(await c.as(who).get('/v1/keys'));
    }
  });
});

describe('policy and platform', () => {
  it('[policy.manage] only the tenant backend reads or changes the policy', async () => {
    expect((await c.backend.get('/v1/policy')).body.policy.mode).toBe('default');
    for (const who of ['boss', 'mod', 'ann'] as const) {
      expectForbidden(await c.as(who).get('/v1/policy'));
      expectForbidden(await c.as(who).put('/v1/policy', { mode: 'replace', rules: [] }));
      expectForbidden(await c.as(who).delete('/v1/policy'));
    }
    expectError(await h.admin.get('/v1/policy'), 'NATTER_AUTH_FORBIDDEN');
    expect((await c.backend.get('/v1/policy')).body.policy.mode).toBe('default');
  });

  it("[tenant.admin] tenants are the platform key's; it reaches no tenant data, and tenant credentials no tenant", async () => {
    expectOk(await h.admin.get(`/v1/admin/tenants/${c.t.tenantId}`));
    expectError(await h.admin.get('/v1/channels'), 'NATTER_AUTH_FORBIDDEN');
    expectForbidden(await c.backend.get(`/v1/admin/tenants/${c.t.tenantId}`));
    expectForbidden(await c.as('boss').get('/v1/admin/tenants'));
  });
});
