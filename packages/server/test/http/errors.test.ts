/**
 * The failures every route shares: malformed requests, credentials, and the error shape (code,
 * message, retryable, the field at fault; never a stack trace).
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { Store, TenantStore } from '../../src/ports/store.js';
import {
  createChannel,
  createTenant,
  createUsers,
  startTestServer,
  type TestServer,
  type TestTenant,
  type TestUser,
  userClient,
} from '../harness.js';
import { expectError } from './assertions.js';
import { ROUTES } from './routes.js';

const BODY_LIMIT = 2048;
let h: TestServer;
let t: TestTenant;
let ann: TestUser;
let channelPath: string;

beforeAll(async () => {
  h = await startTestServer({ NATTER_BODY_LIMIT: String(BODY_LIMIT) });
  t = await createTenant(h);
  await createUsers(t, ['ann', 'bob']);
  ann = await userClient(t, 'ann');
  const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
  channelPath = `/v1/channels/${ch.id}/messages`;
});
afterAll(() => h.close());

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT signed with `tenant`'s real signing secret (read from the store), with overrides. */
async function signToken(
  tenantId: string,
  opts: { sub?: string | null; tid?: string; iss?: string; exp?: number; iat?: number; alg?: 'HS256' | 'HS512' } = {},
): Promise<string> {
  const tenant = await h.server.store.platform.getTenant(tenantId);
  if (!tenant) throw new Error(`no tenant ${tenantId}`);
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ tid: opts.tid ?? tenantId })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(opts.iss ?? 'natter')
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 600);
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'ann');
  return jwt.sign(Buffer.from(tenant.signingSecret, 'base64url'));
}

describe('malformed requests', () => {
  it('invalid JSON is 400 naming the body', async () => {
    expectError(
      await ann.api.request('POST', channelPath, { raw: '{"text": "unterminated' }),
      'NATTER_REQUEST_INVALID',
      'body',
    );
    expectError(
      await ann.api.request('POST', channelPath, { raw: "{'text': 'single quotes'}" }),
      'NATTER_REQUEST_INVALID',
      'body',
    );
  });

  it('an empty body sent as JSON is 400', async () => {
    expectError(await ann.api.request('POST', channelPath, { raw: '' }), 'NATTER_REQUEST_INVALID', 'body');
  });

  it('a JSON body that is not an object is 400', async () => {
    expectError(await ann.api.request('POST', channelPath, { raw: '["text"]' }), 'NATTER_REQUEST_INVALID', 'body');
    expectError(await ann.api.request('POST', channelPath, { raw: '"text"' }), 'NATTER_REQUEST_INVALID', 'body');
  });

  it('a body that is not JSON is 415', async () => {
    const form = await ann.api.request('POST', channelPath, {
      raw: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(form, 'NATTER_REQUEST_UNSUPPORTED_MEDIA');
    const xml = await ann.api.request('POST', channelPath, {
      raw: '<text>hi</text>',
      headers: { 'content-type': 'application/xml' },
    });
    expectError(xml, 'NATTER_REQUEST_UNSUPPORTED_MEDIA');
    expect((await ann.api.get(channelPath)).body.messages).toEqual([]);
  });

  it(`a body over NATTER_BODY_LIMIT (${BODY_LIMIT} bytes) is 413`, async () => {
    const res = await ann.api.post(channelPath, { text: 'x'.repeat(BODY_LIMIT + 100) });
    expectError(res, 'NATTER_REQUEST_TOO_LARGE');
    expect((await ann.api.post(channelPath, { text: 'fits' })).status).toBe(201);
    expect((await ann.api.get(channelPath)).body.messages.map((m: { text: string }) => m.text)).toEqual(['fits']);
    await ann.api.delete(`${channelPath}/${(await ann.api.get(channelPath)).body.messages[0].id}`);
  });

  it('__proto__ keys in a body are refused', async () => {
    expectError(
      await ann.api.request('POST', channelPath, { raw: '{"text":"x","__proto__":{"admin":true}}' }),
      'NATTER_REQUEST_INVALID',
    );
  });

  it('custom data nested thousands of levels deep is a 400, not a crash', async () => {
    const deep = `{"text":"x","custom":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`;
    expectError(await ann.api.request('POST', channelPath, { raw: deep }), 'NATTER_REQUEST_INVALID', 'custom');
  });

  it('unknown routes and methods are 404 NATTER_ROUTE_NOT_FOUND', async () => {
    const res = await ann.api.get('/v1/nothing-here');
    expectError(res, 'NATTER_ROUTE_NOT_FOUND');
    expect(res.body.error.message).toContain('/v1/nothing-here');
    expectError(await ann.api.put('/v1/me', {}), 'NATTER_ROUTE_NOT_FOUND');
    expectError(await h.api(null).get('/'), 'NATTER_ROUTE_NOT_FOUND');
  });

  it('path parameters are validated and named', async () => {
    expectError(await ann.api.get(`/v1/channels/${'x'.repeat(129)}`), 'NATTER_REQUEST_INVALID', 'params.channelId');
    expectError(await ann.api.get(`/v1/channels/${'x'.repeat(5000)}`), 'NATTER_REQUEST_INVALID', 'params');
    expectError(await ann.api.get('/v1/channels/a%2Fb/messages'), 'NATTER_REQUEST_INVALID', 'params.channelId');
    expectError(await ann.api.get('/v1/channels/%E0%A4%A/messages'), 'NATTER_REQUEST_INVALID', 'params');
  });

  it('ids of the longest allowed length (128) work in paths', async () => {
    const long = `u${'x'.repeat(127)}`;
    await createUsers(t, [long]);
    const res = await t.api.get(`/v1/users/${long}`);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(long);
    const ch = await createChannel(t.api, { id: `c${'y'.repeat(127)}`, type: 'group', members: [long] });
    expect((await t.api.post(`/v1/channels/${ch.id}/messages`, { text: 'long ids', userId: long })).status).toBe(201);
    const m = (await t.api.get(`/v1/channels/${ch.id}/messages`)).body.messages[0];
    const reaction = encodeURIComponent('🎉'.repeat(32));
    const reacted = await t.api.put(`/v1/channels/${ch.id}/messages/${m.id}/reactions/${reaction}?userId=${long}`);
    expect(reacted.status).toBe(200);
    expect(reacted.body.message.reactionCounts).toEqual({ ['🎉'.repeat(32)]: 1 });
  });
});

describe('credentials', () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const withHeader = (authorization: string) => h.api(null).request('GET', '/v1/users', { headers: { authorization } });
  const meWith = (authorization: string) => h.api(null).request('GET', '/v1/me', { headers: { authorization } });

  it('no Authorization header is 401 NATTER_AUTH_MISSING', async () => {
    expectError(await h.api(null).get('/v1/users'), 'NATTER_AUTH_MISSING');
  });

  it.each([
    ['an unknown scheme', 'Token abc'],
    ['a bare word', 'abc'],
    ['Basic without a value', 'Basic '],
    ['Basic that is not id:secret', `Basic ${Buffer.from('just-an-id').toString('base64')}`],
    ['Bearer without a token', 'Bearer '],
    ['Bearer garbage', 'Bearer not.a.jwt'],
  ])('%s is 401 NATTER_AUTH_INVALID', async (_what, header) => {
    expectError(await withHeader(header), 'NATTER_AUTH_INVALID');
  });

  it('a wrong secret, an unknown key id and a revoked key are 401 NATTER_AUTH_INVALID', async () => {
    expectError(await withHeader(basic(t.key[0], 'wrong')), 'NATTER_AUTH_INVALID');
    expectError(await withHeader(basic(t.key[0], '')), 'NATTER_AUTH_INVALID');
    expectError(await withHeader(basic('ak_unknown', t.key[1])), 'NATTER_AUTH_INVALID');
    const other = await createTenant(h);
    expect((await other.api.get('/v1/users')).status).toBe(200);
    expect((await h.admin.delete(`/v1/admin/tenants/${other.tenantId}/keys/${other.key[0]}`)).status).toBe(204);
    expectError(await other.api.get('/v1/users'), 'NATTER_AUTH_INVALID');
  });

  it('an expired token is 401 NATTER_AUTH_EXPIRED, which is retryable (mint a new one)', async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await signToken(t.tenantId, { iat: past, exp: past + 60 });
    const res = await meWith(`Bearer ${expired}`);
    expectError(res, 'NATTER_AUTH_EXPIRED');
    expect(res.body.error.retryable).toBe(true);
    // The same claims, not expired, work: the expiry alone made the difference.
    expect((await meWith(`Bearer ${await signToken(t.tenantId)}`)).status).toBe(200);
  });

  it('a token minted by the server in the past expires (server clock)', async () => {
    let clock = Date.now() - 3600_000;
    const past = await startTestServer({}, { now: () => new Date(clock) });
    try {
      const tenant = await createTenant(past);
      await createUsers(tenant, ['ann']);
      const old = await userClient(tenant, 'ann', 60);
      expectError(await old.api.get('/v1/me'), 'NATTER_AUTH_EXPIRED');
      clock = Date.now();
      const fresh = await userClient(tenant, 'ann', 60);
      expect((await fresh.api.get('/v1/me')).status).toBe(200);
    } finally {
      await past.close();
    }
  });

  it('an alg:none token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ tid: t.tenantId, sub: 'ann', iss: 'natter', iat: now, exp: now + 600 })}.`;
    expectError(await meWith(`Bearer ${unsigned}`), 'NATTER_AUTH_INVALID');
  });

  it('tokens with a forged tenant, a wrong secret, issuer or algorithm, or no subject are refused', async () => {
    const other = await createTenant(h);
    await createUsers(other, ['ann']);
    // Signed with the other tenant's secret but claiming this tenant: the signature does not verify.
    expectError(await meWith(`Bearer ${await signToken(other.tenantId, { tid: t.tenantId })}`), 'NATTER_AUTH_INVALID');
    expectError(
      await meWith(`Bearer ${await signToken(t.tenantId, { tid: 'no-such-tenant' })}`),
      'NATTER_AUTH_INVALID',
    );
    expectError(await meWith(`Bearer ${await signToken(t.tenantId, { iss: 'someone-else' })}`), 'NATTER_AUTH_INVALID');
    expectError(await meWith(`Bearer ${await signToken(t.tenantId, { alg: 'HS512' })}`), 'NATTER_AUTH_INVALID');
    expectError(await meWith(`Bearer ${await signToken(t.tenantId, { sub: null })}`), 'NATTER_AUTH_INVALID');
    expectError(await meWith(`Bearer ${await signToken(t.tenantId, { sub: 'ghost' })}`), 'NATTER_AUTH_INVALID');
    const token = await signToken(t.tenantId);
    const [header, payload] = token.split('.');
    expectError(await meWith(`Bearer ${header}.${payload}.${'A'.repeat(43)}`), 'NATTER_AUTH_INVALID');
  });

  it('the token of a deleted user is refused', async () => {
    await createUsers(t, ['temp']);
    const temp = await userClient(t, 'temp');
    expect((await temp.api.get('/v1/me')).status).toBe(200);
    expect((await t.api.delete('/v1/users/temp')).status).toBe(204);
    expectError(await temp.api.get('/v1/me'), 'NATTER_AUTH_INVALID');
    // Re-creating a user of that id does not revive refusal-free access for other tenants' tokens,
    // but the tenant's own old token names the user again.
    await createUsers(t, ['temp']);
    expect((await temp.api.get('/v1/me')).status).toBe(200);
  });

  const tenantRoutes = ROUTES.filter((r) => r.access === 'tenant');
  it.each(tenantRoutes.map((r) => [r.method, r.path, r] as const))(
    '%s %s: no credentials 401, platform key 403',
    async (_m, _p, route) => {
      const options = route.sample.body === undefined ? {} : { body: route.sample.body };
      expectError(await h.api(null).request(route.method, route.sample.path, options), 'NATTER_AUTH_MISSING');
      expectError(
        await h.api({ basic: [t.key[0], 'wrong'] }).request(route.method, route.sample.path, options),
        'NATTER_AUTH_INVALID',
      );
      expectError(await h.admin.request(route.method, route.sample.path, options), 'NATTER_AUTH_FORBIDDEN');
    },
  );
});

describe('rate limits', () => {
  it('a user over NATTER_RATE_USER gets 429 NATTER_RATE_LIMITED with Retry-After; the backend is not bound by it', async () => {
    const limited = await startTestServer({ NATTER_RATE_USER: '1' });
    try {
      const tenant = await createTenant(limited);
      await createUsers(tenant, ['ann']);
      const user = await userClient(tenant, 'ann');
      // Freeze the clock the buckets read, so no token comes back while the test runs.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        // Rate 1/s means a burst of 2.
        expect((await user.api.get('/v1/me')).status).toBe(200);
        expect((await user.api.get('/v1/me')).status).toBe(200);
        const res = await user.api.get('/v1/me');
        expectError(res, 'NATTER_RATE_LIMITED');
        expect(res.body.error.details).toMatchObject({ retryAfter: 1 });
        expect(res.headers.get('retry-after')).toBe('1');
        for (let i = 0; i < 5; i++) expect((await tenant.api.get('/v1/users')).status).toBe(200);
      } finally {
        vi.useRealTimers();
      }
    } finally {
      await limited.close();
    }
  });
});

describe('internal errors', () => {
  it('answer 500 NATTER_INTERNAL with a generic message: no stack, no cause', async () => {
    // A real SQLite store whose getChannel fails for one channel id (a fake only for the failure).
    const real = createSqliteStore({ path: ':memory:' });
    const failing: Store = {
      name: real.name,
      platform: real.platform,
      outbox: real.outbox,
      tenant(tenantId) {
        const db = real.tenant(tenantId);
        return new Proxy(db, {
          get(target, prop, receiver) {
            if (prop === 'getChannel') {
              return async (id: string) => {
                if (id === 'explode') throw new Error('disk I/O error at /srv/natter/src/secret.ts:12:3');
                return target.getChannel(id);
              };
            }
            const value = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as TenantStore;
      },
      ping: () => real.ping(),
      close: () => real.close(),
    };
    const broken = await startTestServer({}, { store: failing });
    try {
      const tenant = await createTenant(broken);
      const res = await tenant.api.get('/v1/channels/explode');
      expectError(res, 'NATTER_INTERNAL');
      expect(res.body.error).toEqual({ code: 'NATTER_INTERNAL', message: 'Internal error.', retryable: true });
      expect(JSON.stringify(res.body)).not.toContain('disk');
      expectError(await tenant.api.get('/v1/channels/fine'), 'NATTER_CHANNEL_NOT_FOUND');
    } finally {
      await broken.close();
    }
  });
});
