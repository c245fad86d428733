/**
 * Users, user tokens, `/v1/me` and the tenant's own API keys (`/v1/keys`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, createTenant, createUsers, startTestServer, type TestServer, userClient } from '../harness.js';
import { expectError } from './assertions.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');
let h: TestServer;
beforeAll(async () => {
  // A fixed clock makes token expiry times exact; tokens still verify (2030 is in the future).
  h = await startTestServer({ NATTER_MAX_CUSTOM_BYTES: '64', NATTER_TOKEN_TTL: '600' }, { now: () => new Date(START) });
});
afterAll(() => h.close());

describe('POST /v1/users', () => {
  it('creates users with defaults and updates them keeping fields left out', async () => {
    const t = await createTenant(h);
    const created = await t.api.post('/v1/users', {
      users: [
        { id: 'ann', name: 'Ann', avatarUrl: 'https://img.test/ann.png', custom: { team: 'red' } },
        { id: 'bob' },
      ],
    });
    expect(created.status).toBe(200);
    expect(created.body.users).toEqual([
      expect.objectContaining({
        id: 'ann',
        name: 'Ann',
        avatarUrl: 'https://img.test/ann.png',
        role: 'member',
        custom: { team: 'red' },
      }),
      expect.objectContaining({ id: 'bob', name: null, avatarUrl: null, role: 'member', custom: {} }),
    ]);
    const updated = await t.api.post('/v1/users', { users: [{ id: 'ann', role: 'moderator' }] });
    expect(updated.body.users[0]).toMatchObject({ id: 'ann', name: 'Ann', role: 'moderator', custom: { team: 'red' } });
    const cleared = await t.api.post('/v1/users', { users: [{ id: 'ann', name: null }] });
    expect(cleared.body.users[0]).toMatchObject({ name: null, role: 'moderator' });
  });

  it.each([
    ['an unknown field', { users: [{ id: 'u', nick: 'x' }] }, 'body.users.0.nick'],
    ['a missing id', { users: [{ name: 'x' }] }, 'body.users.0.id'],
    ['an id of the wrong type', { users: [{ id: 7 }] }, 'body.users.0.id'],
    ['an id with a slash', { users: [{ id: 'a/b' }] }, 'body.users.0.id'],
    ['an unknown role', { users: [{ id: 'u', role: 'owner' }] }, 'body.users.0.role'],
    ['an avatarUrl that is not a URL', { users: [{ id: 'u', avatarUrl: 'not a url' }] }, 'body.users.0.avatarUrl'],
    ['custom data that is not an object', { users: [{ id: 'u', custom: [1, 2] }] }, 'body.users.0.custom'],
    ['an empty list', { users: [] }, 'body.users'],
    ['a missing list', {}, 'body.users'],
    ['more than 100 users', { users: Array.from({ length: 101 }, (_, i) => ({ id: `u${i}` })) }, 'body.users'],
    ['the same id twice', { users: [{ id: 'u' }, { id: 'u' }] }, 'users/1/id'],
    [
      'custom data over NATTER_MAX_CUSTOM_BYTES',
      { users: [{ id: 'u', custom: { blob: 'x'.repeat(100) } }] },
      'users/0/custom',
    ],
    [
      'custom data nested too deep',
      { users: [{ id: 'u', custom: { a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } } }] },
      'users/0/custom',
    ],
  ])('refuses %s and stores nothing', async (_what, body, field) => {
    const t = await createTenant(h);
    expectError(await t.api.post('/v1/users', body), 'NATTER_REQUEST_INVALID', field);
    expect((await t.api.get('/v1/users')).body.items).toEqual([]);
  });

  it('is for the backend only', async () => {
    const t = await createTenant(h);
    await createUsers(t, [{ id: 'boss', role: 'admin' }]);
    const boss = await userClient(t, 'boss');
    expectError(
      await boss.api.post('/v1/users', { users: [{ id: 'boss', role: 'admin' }, { id: 'mallory' }] }),
      'NATTER_AUTH_FORBIDDEN',
    );
    expect(await h.server.store.tenant(t.tenantId).getUser('mallory')).toBeNull();
  });
});

describe('GET /v1/users and /v1/users/:userId', () => {
  it('lists users in pages', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['u1', 'u2', 'u3']);
    const first = await t.api.get('/v1/users?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { id: string }) => u.id)).toEqual(['u1', 'u2']);
    const rest = await t.api.get(`/v1/users?limit=2&after=${encodeURIComponent(first.body.next)}`);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: 'u3' })], next: null });
    expectError(await t.api.get('/v1/users?limit=0'), 'NATTER_REQUEST_INVALID', 'querystring.limit');
    expectError(await t.api.get('/v1/users?role=admin'), 'NATTER_REQUEST_INVALID');
  });

  it('listing is for the backend only; getting one user is for users too', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann', 'bob']);
    const ann = await userClient(t, 'ann');
    expectError(await ann.api.get('/v1/users'), 'NATTER_AUTH_FORBIDDEN');
    const bob = await ann.api.get('/v1/users/bob');
    expect(bob.status).toBe(200);
    expect(bob.body.user).toMatchObject({ id: 'bob', name: 'bob', role: 'member' });
    expect((await t.api.get('/v1/users/ann')).body.user.id).toBe('ann');
    expectError(await ann.api.get('/v1/users/nobody'), 'NATTER_USER_NOT_FOUND', 'userId');
    expectError(await t.api.get('/v1/users/nobody'), 'NATTER_USER_NOT_FOUND', 'userId');
    expectError(await t.api.get('/v1/users/bad%20id'), 'NATTER_REQUEST_INVALID', 'params.userId');
  });
});

describe('DELETE /v1/users/:userId', () => {
  it('deletes the user and their memberships; their messages stay; their token stops working', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann', 'bob']);
    const ann = await userClient(t, 'ann');
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    const sent = await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'bye' });
    expect(sent.status).toBe(201);

    const res = await t.api.delete('/v1/users/ann');
    expect(res.status).toBe(204);
    expectError(await t.api.get('/v1/users/ann'), 'NATTER_USER_NOT_FOUND');
    expectError(await ann.api.get('/v1/me'), 'NATTER_AUTH_INVALID');
    const channel = await t.api.get(`/v1/channels/${ch.id}`);
    expect(channel.body.channel.memberCount).toBe(1);
    const members = await t.api.get(`/v1/channels/${ch.id}/members`);
    expect(members.body.items.map((m: { userId: string }) => m.userId)).toEqual(['bob']);
    const history = await t.api.get(`/v1/channels/${ch.id}/messages`);
    expect(history.body.messages).toEqual([
      expect.objectContaining({ id: sent.body.message.id, authorId: 'ann', text: 'bye' }),
    ]);
    expectError(await t.api.delete('/v1/users/ann'), 'NATTER_USER_NOT_FOUND', 'userId');
  });

  it('is for the backend only', async () => {
    const t = await createTenant(h);
    await createUsers(t, [{ id: 'boss', role: 'admin' }, 'bob']);
    const boss = await userClient(t, 'boss');
    expectError(await boss.api.delete('/v1/users/bob'), 'NATTER_AUTH_FORBIDDEN');
    expect((await t.api.get('/v1/users/bob')).status).toBe(200);
  });
});

describe('POST /v1/users/:userId/tokens', () => {
  it('mints a token with no body, valid for NATTER_TOKEN_TTL', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann']);
    const res = await t.api.post('/v1/users/ann/tokens');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: new Date(START + 600_000).toISOString(),
    });
    const me = await h.api({ bearer: res.body.token }).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: 'ann' });
  });

  it('takes ttlSeconds from 60 to 30 days', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann']);
    const res = await t.api.post('/v1/users/ann/tokens', { ttlSeconds: 60 });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe(new Date(START + 60_000).toISOString());
    expectError(
      await t.api.post('/v1/users/ann/tokens', { ttlSeconds: 59 }),
      'NATTER_REQUEST_INVALID',
      'body.ttlSeconds',
    );
    expectError(
      await t.api.post('/v1/users/ann/tokens', { ttlSeconds: 2_592_001 }),
      'NATTER_REQUEST_INVALID',
      'body.ttlSeconds',
    );
    expectError(
      await t.api.post('/v1/users/ann/tokens', { ttlSeconds: '600' }),
      'NATTER_REQUEST_INVALID',
      'body.ttlSeconds',
    );
    expectError(await t.api.post('/v1/users/ann/tokens', { ttl: 600 }), 'NATTER_REQUEST_INVALID', 'body.ttl');
  });

  it('refuses unknown users and user tokens', async () => {
    const t = await createTenant(h);
    await createUsers(t, ['ann', 'bob']);
    const ann = await userClient(t, 'ann');
    expectError(await t.api.post('/v1/users/nobody/tokens'), 'NATTER_USER_NOT_FOUND', 'userId');
    expectError(await ann.api.post('/v1/users/bob/tokens'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await ann.api.post('/v1/users/ann/tokens'), 'NATTER_AUTH_FORBIDDEN');
  });
});

describe('GET /v1/me', () => {
  it('answers the user of the token, and is not for API keys', async () => {
    const t = await createTenant(h);
    await createUsers(t, [{ id: 'ann', name: 'Ann', role: 'moderator' }]);
    const ann = await userClient(t, 'ann');
    const res = await ann.api.get('/v1/me');
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: 'ann', name: 'Ann', role: 'moderator' });
    expectError(await t.api.get('/v1/me'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await h.admin.get('/v1/me'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await h.api(null).get('/v1/me'), 'NATTER_AUTH_MISSING');
  });
});

describe('/v1/keys: a tenant rotates its own keys', () => {
  it('issues a new key, which works; the old one, revoked, fails', async () => {
    const t = await createTenant(h);
    const issued = await t.api.post('/v1/keys');
    expect(issued.status).toBe(201);
    expect(issued.body.apiKey).toEqual({
      id: expect.any(String),
      secret: expect.any(String),
      createdAt: expect.any(String),
    });
    const fresh = h.api({ basic: [issued.body.apiKey.id, issued.body.apiKey.secret] });

    const list = await fresh.get('/v1/keys');
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { id: string }) => k.id).sort()).toEqual([t.key[0], issued.body.apiKey.id].sort());
    expect(JSON.stringify(list.body)).not.toContain(issued.body.apiKey.secret);
    expect(JSON.stringify(list.body)).not.toMatch(/secret/i);

    expect((await fresh.delete(`/v1/keys/${t.key[0]}`)).status).toBe(204);
    expectError(await t.api.get('/v1/users'), 'NATTER_AUTH_INVALID');
    expect((await fresh.get('/v1/users')).status).toBe(200);
    const after = await fresh.get('/v1/keys');
    expect(after.body.items.find((k: { id: string }) => k.id === t.key[0]).revokedAt).toEqual(expect.any(String));
    expectError(await fresh.delete('/v1/keys/ak_nope'), 'NATTER_KEY_NOT_FOUND', 'keyId');
  });

  it('is for API keys only, and the platform key is not a tenant key', async () => {
    const t = await createTenant(h);
    await createUsers(t, [{ id: 'boss', role: 'admin' }]);
    const boss = await userClient(t, 'boss');
    expectError(await boss.api.get('/v1/keys'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await boss.api.post('/v1/keys'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await boss.api.delete(`/v1/keys/${t.key[0]}`), 'NATTER_AUTH_FORBIDDEN');
    expect((await t.api.get('/v1/users')).status).toBe(200);
    expectError(await h.admin.get('/v1/keys'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await h.admin.post('/v1/keys'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await t.api.delete(`/v1/keys/${h.adminKey[0]}`), 'NATTER_KEY_NOT_FOUND', 'keyId');
    expect((await h.admin.get('/v1/admin/tenants')).status).toBe(200);
    expect(await h.server.store.platform.listApiKeys(t.tenantId)).toHaveLength(1);
  });
});
