/**
 * Hostile tokens on every authenticated route and on the realtime upgrade. Each bad credential is
 * refused with its documented code, the answer holds the error and nothing else, and nothing is
 * written, even though every request names real ids the caller's tenant holds.
 *
 * Extends, does not repeat: `test/http/errors.test.ts` ("credentials") checks the token kinds one
 * by one on `/v1/me` (plus wrong issuer, HS512, no subject, a server-minted token expiring), and
 * `test/realtime/upgrade.test.ts` checks them at the upgrade with the token in the query. Here each
 * kind meets every route of `test/http/routes.ts`, and the upgrade with the token both in the query
 * and as a `bearer.` subprotocol.
 */
import { randomBytes } from 'node:crypto';
import type { ErrorCode } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, createUsers, startTestServer, type TestServer, userClient } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { ROUTES } from '../http/routes.js';
import { signingSecret, signToken } from '../realtime/helpers.js';
import { refusedUpgrade } from '../realtime/ws-client.js';
import { concrete, type Seeded, seedTenant } from './fixture.js';
import { expectConsistentStore, rowCounts, tenantRows } from './store.js';

let h: TestServer;
let a: Seeded;
/** Each hostile token, with the code it must be refused with. */
const tokens: Record<string, { token: string | null; code: ErrorCode }> = {};
let before: { counts: Record<string, number>; rows: ReturnType<typeof tenantRows> };

const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  h = await startTestServer();
  a = await seedTenant(h, 'a');
  const owner = a.owner.userId;
  const secretA = await signingSecret(h, a.t.tenantId);
  const other = await createTenant(h);
  await createUsers(other, [owner]);
  const secretB = await signingSecret(h, other.tenantId);
  // A user deleted after their token was minted.
  await createUsers(a.t, ['leaver']);
  const leaver = await userClient(a.t, 'leaver');
  expect((await a.t.api.delete('/v1/users/leaver')).status).toBe(204);
  // A tenant deleted after its user's token was minted.
  const doomed = await createTenant(h);
  await createUsers(doomed, [owner]);
  const orphan = await userClient(doomed, owner);
  expect((await h.admin.delete(`/v1/admin/tenants/${doomed.tenantId}`)).status).toBe(204);

  const valid = { tid: a.t.tenantId, sub: owner, exp: nowS() + 600 };
  const [header, payload] = (await signToken(secretA, valid)).split('.');
  Object.assign(tokens, {
    missing: { token: null, code: 'NATTER_AUTH_MISSING' },
    expired: {
      token: await signToken(secretA, { ...valid, iat: nowS() - 7200, exp: nowS() - 3600 }),
      code: 'NATTER_AUTH_EXPIRED',
    },
    'wrong signature': {
      token: await signToken(randomBytes(32).toString('base64url'), valid),
      code: 'NATTER_AUTH_INVALID',
    },
    'tampered payload': {
      token: `${header}.${b64({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'u1' })}.${(await signToken(secretA, valid)).split('.')[2]}`,
      code: 'NATTER_AUTH_INVALID',
    },
    'alg none': {
      token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...valid, iss: 'natter', iat: nowS() })}.`,
      code: 'NATTER_AUTH_INVALID',
    },
    "another tenant's key": { token: await signToken(secretB, valid), code: 'NATTER_AUTH_INVALID' },
    'deleted user': { token: leaver.token, code: 'NATTER_AUTH_INVALID' },
    'deleted tenant': { token: orphan.token, code: 'NATTER_AUTH_INVALID' },
  } satisfies typeof tokens);
  before = { counts: rowCounts(h), rows: tenantRows(h, a.t.tenantId) };
});
afterAll(async () => {
  if (h) expectConsistentStore(h);
  await h?.close();
});

const guarded = ROUTES.filter((r) => r.access !== 'public');

describe('REST: every authenticated route refuses every hostile token', () => {
  it('the route list is the whole API (the OpenAPI test keeps it so)', () => {
    expect(guarded.length).toBeGreaterThan(50);
  });

  it.each(guarded.map((r) => [r.method, r.path, r] as const))('%s %s', async (method, _path, route) => {
    const { path, body } = concrete(a, route.sample);
    for (const [kind, { token, code }] of Object.entries(tokens)) {
      const res = await h
        .api(token === null ? null : { bearer: token })
        .request(method, path, body === undefined ? {} : { body });
      expect(res.status, `${kind}: ${JSON.stringify(res.body)}`).toBe(401);
      expectError(res, code);
      // Nothing of the tenant (its secret word, its ids) leaks into the refusal.
      expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`${a.secret}|${a.messageId}|${a.keyId}`));
    }
  });

  it('the valid token the forgeries imitate works (so the refusals are about the token alone)', async () => {
    const secretA = await signingSecret(h, a.t.tenantId);
    const good = await signToken(secretA, { tid: a.t.tenantId, sub: a.owner.userId, exp: nowS() + 600 });
    const res = await h.api({ bearer: good }).get(`/v1/channels/${a.channelId}/messages`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain(a.secret);
  });

  it('nothing was written by any refused request', () => {
    expect(rowCounts(h)).toEqual(before.counts);
    expect(tenantRows(h, a.t.tenantId)).toEqual(before.rows);
  });
});

describe('realtime: the upgrade refuses every hostile token, in the query and as a subprotocol', () => {
  it.each(['query', 'protocol'] as const)('token via %s', async (via) => {
    for (const [kind, { token, code }] of Object.entries(tokens)) {
      const refused = await refusedUpgrade(h.url, token, { via });
      expect({ kind, status: refused.status, code: refused.code }).toEqual({ kind, status: 401, code });
      // The refusal is the error alone: no welcome, no user, no rules.
      expect(Object.keys(refused.body as object)).toEqual(['error']);
    }
  });
});
