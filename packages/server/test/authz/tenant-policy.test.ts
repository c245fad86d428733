// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy placeholders are literally ${…} strings.
/**
 * Tenant policies through the real server: `GET`/`PUT`/`DELETE /v1/policy`, strict validation,
 * extend and replace, placeholders filled from the server's user record, and live connections:
 * rules in `welcome`, `rules.updated` on policy and role changes, subscriptions that end.
 */
import { createMongoAbility, type MongoAbility, type RawRuleOf, subject } from '@casl/ability';
import { unpackRules } from '@casl/ability/extra';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/domain/abilities-defaults.js';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError, quiet } from '../realtime/helpers.js';
import { type Cast, cast, expectForbidden, expectHidden, expectOk, group, publicChannel, support } from './helpers.js';

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
beforeEach(async () => {
  expect((await c.backend.delete('/v1/policy')).status).toBe(204);
});

const put = (body: unknown) => c.backend.put('/v1/policy', body);

describe('the policy API', () => {
  it('GET shows the default until a policy is set, with the default rules to copy; PUT and DELETE change it', async () => {
    const initial = await c.backend.get('/v1/policy');
    expect(initial.body).toEqual({
      policy: { mode: 'default', rules: [], etag: null, updatedAt: null },
      defaultRules: JSON.parse(JSON.stringify(DEFAULT_RULES)),
    });
    const rules = [
      { roles: ['guest'], inverted: true, action: 'read', subject: 'Channel', conditions: { type: 'public' } },
    ];
    const res = await put({ mode: 'extend', rules });
    expectOk(res);
    expect(res.body.policy).toEqual({ mode: 'extend', rules, etag: expect.any(String), updatedAt: expect.any(String) });
    expect((await c.backend.get('/v1/policy')).body.policy).toEqual(res.body.policy);
    const again = await put({ mode: 'extend', rules });
    expect(again.body.policy.etag).not.toBe(res.body.policy.etag);
    expect((await c.backend.delete('/v1/policy')).status).toBe(204);
    expect((await c.backend.get('/v1/policy')).body.policy.mode).toBe('default');
    // The policy lives in the tenant's settings, next to (and not in place of) the others.
    const tenant = await h.server.store.platform.getTenant(c.t.tenantId);
    expect(tenant?.settings.policy).toBeUndefined();
    expect(tenant?.settings.allowedOrigins).toEqual([]);
  });

  it.each([
    ['an unknown mode', { mode: 'merge', rules: [] }, 'body.mode'],
    ['no rules', { mode: 'extend' }, 'body.rules'],
    ['an unknown top-level field', { mode: 'extend', rules: [], version: 2 }, 'body.version'],
    [
      'an unknown rule field',
      { mode: 'extend', rules: [{ action: 'read', subject: 'Channel', when: 'always' }] },
      'body.rules.0.when',
    ],
    ['an unknown subject', { mode: 'extend', rules: [{ action: 'read', subject: 'Tenant' }] }, 'body.rules.0.subject'],
    [
      'an unknown action',
      {
        mode: 'extend',
        rules: [
          { action: 'read', subject: 'Channel' },
          { action: 'nuke', subject: 'Channel' },
        ],
      },
      'body.rules.1.action',
    ],
    [
      'an unknown view field',
      { mode: 'extend', rules: [{ action: 'read', subject: 'Channel', conditions: { tenantId: 'x' } }] },
      'body.rules.0.conditions.tenantId',
    ],
    [
      'an operator off the list',
      { mode: 'extend', rules: [{ action: 'read', subject: 'Channel', conditions: { id: { $regex: '^a' } } }] },
      'body.rules.0.conditions.id.$regex',
    ],
    [
      'a placeholder from the request',
      { mode: 'extend', rules: [{ action: 'read', subject: 'Channel', conditions: { createdBy: '${body.userId}' } }] },
      'body.rules.0.conditions.createdBy',
    ],
    [
      'an unknown role',
      { mode: 'extend', rules: [{ action: 'read', subject: 'Channel', roles: ['root'] }] },
      'body.rules.0.roles.0',
    ],
  ])('PUT refuses %s with 400 naming the field, and changes nothing', async (_what, body, field) => {
    expectError(await put(body), 'NATTER_REQUEST_INVALID', field);
    expect((await c.backend.get('/v1/policy')).body.policy.mode).toBe('default');
  });
});

describe('policies at work', () => {
  it('extend: later rules win over the defaults; replace: the defaults are gone; DELETE brings them back', async () => {
    const pub = await publicChannel(c);
    const g = await group(c);
    expectOk(
      await put({
        mode: 'extend',
        rules: [
          { roles: ['guest'], inverted: true, action: 'read', subject: 'Channel', conditions: { type: 'public' } },
          { roles: ['member'], action: 'send', subject: 'Channel', conditions: { type: 'public', isMember: true } },
          {
            inverted: true,
            action: 'react',
            subject: 'Message',
            conditions: { channelType: 'public' },
            reason: 'Reactions are off in announcements.',
          },
        ],
      }),
    );
    expectHidden(await c.as('gus').get(`/v1/channels/${pub.id}`));
    expectOk(await c.as('bob').post(`/v1/channels/${pub.id}/messages`, { text: 'members post now' }));
    const m = await c.send('ann', pub.id);
    const refused = await c.as('bob').put(`/v1/channels/${pub.id}/messages/${m.id}/reactions/like`);
    expectForbidden(refused);
    expect(refused.body.error.message).toContain('Reactions are off in announcements.');
    expectOk(
      await put({ mode: 'replace', rules: [{ action: 'read', subject: 'Channel', conditions: { type: 'public' } }] }),
    );
    expectHidden(await c.as('bob').get(`/v1/channels/${g.id}`));
    expectOk(await c.as('bob').get(`/v1/channels/${pub.id}`));
    expectForbidden(await c.as('ann').post(`/v1/channels/${pub.id}/messages`, { text: 'owner?' }));
    expectOk(await c.backend.get(`/v1/channels/${g.id}`));
    expect((await c.backend.delete('/v1/policy')).status).toBe(204);
    expectOk(await c.as('bob').get(`/v1/channels/${g.id}`));
    expectOk(await c.as('gus').get(`/v1/channels/${pub.id}`));
  });

  it('placeholders come from the stored user, which only the backend changes', async () => {
    const red = await c.channel({ type: 'group', custom: { team: 'red' }, members: ['ann'] });
    const blue = await c.channel({ type: 'group', custom: { team: 'blue' }, members: ['ann'] });
    expectOk(
      await put({
        mode: 'extend',
        rules: [{ action: 'read', subject: 'Channel', conditions: { 'custom.team': '${user.custom.team}' } }],
      }),
    );
    expectHidden(await c.as('cat').get(`/v1/channels/${red.id}`));
    expectOk(await c.backend.post('/v1/users', { users: [{ id: 'cat', custom: { team: 'red' } }] }));
    expectOk(await c.as('cat').get(`/v1/channels/${red.id}`));
    expectHidden(await c.as('cat').get(`/v1/channels/${blue.id}`));
    // A user cannot give themselves attributes: there is no such route for users, and the stored
    // policy keeps its placeholder (it is filled per request, never stored filled).
    expectForbidden(await c.as('cat').post('/v1/users', { users: [{ id: 'cat', custom: { team: 'blue' } }] }));
    expect((await c.backend.get('/v1/policy')).body.policy.rules[0].conditions).toEqual({
      'custom.team': '${user.custom.team}',
    });
  });
});

describe('live connections', () => {
  it("welcome carries the user's rules; unpacked on the client they answer like the server", async () => {
    const bob = await c.connect('bob');
    const ability = createMongoAbility(unpackRules<RawRuleOf<MongoAbility>>(bob.welcome.rules as never));
    const view = (type: string, isMember: boolean, memberRole: string | null) => ({
      id: 'x',
      type,
      createdBy: null,
      frozen: false,
      ended: false,
      custom: {},
      isMember,
      memberRole,
      banned: false,
      muted: false,
      blockedByPeer: false,
      slowModeWait: 0,
    });
    expect(ability.can('read', subject('Channel', view('group', true, 'member')))).toBe(true);
    expect(ability.can('read', subject('Channel', view('group', false, null)))).toBe(false);
    expect(ability.can('send', subject('Channel', view('public', true, 'member')))).toBe(false);
    expect(ability.can('send', subject('Channel', view('public', true, 'owner')))).toBe(true);
    // Views compare with the connection's user: bob's own message is `isAuthor`.
    expect(ability.can('edit', subject('Message', { authorId: 'bob', isAuthor: true }))).toBe(true);
    expect(ability.can('edit', subject('Message', { authorId: 'ann', isAuthor: false }))).toBe(false);
    await bob.close();
  });

  it('a policy change pushes rules.updated, applies to the next frame, and ends subscriptions no longer readable', async () => {
    const g = await group(c);
    const other = await group(c);
    const bob = await c.connect('bob');
    await bob.request({ type: 'subscribe', channelId: g.id });
    await bob.request({ type: 'subscribe', channelId: other.id });
    expectOk(
      await put({
        mode: 'extend',
        rules: [{ roles: ['member'], inverted: true, action: 'read', subject: 'Channel', conditions: { id: g.id } }],
      }),
    );
    const updated = await bob.nextEvent('rules.updated');
    expect(JSON.stringify(updated.data.rules)).toContain(g.id);
    expect(await bob.nextEvent('subscription.ended')).toMatchObject({
      channelId: g.id,
      data: { reason: 'NATTER_CHANNEL_NOT_FOUND' },
    });
    await expectFrameError(bob.request({ type: 'subscribe', channelId: g.id }), 'NATTER_CHANNEL_NOT_FOUND');
    await expectFrameError(
      bob.request({ type: 'message.send', channelId: g.id, text: 'x' }),
      'NATTER_CHANNEL_NOT_FOUND',
    );
    await c.send('ann', other.id, 'still here');
    expect(await bob.nextEvent('message.new')).toMatchObject({ channelId: other.id });
    // Back to the default: new rules again, and the channel can be read.
    expect((await c.backend.delete('/v1/policy')).status).toBe(204);
    await bob.nextEvent('rules.updated');
    expect((await bob.request({ type: 'subscribe', channelId: g.id })).channel.id).toBe(g.id);
    expect(bob.eventsOf('subscription.ended').map((e) => e.channelId)).toEqual([g.id]);
    await bob.close();
  });

  it('a connection that missed the push gets rules.updated before the answer to its next frame', async () => {
    const bob = await c.connect('bob');
    // Written to the store directly, as another node would: this node's hub hears nothing.
    const tenant = await h.server.store.platform.getTenant(c.t.tenantId);
    await h.server.store.platform.updateTenant(c.t.tenantId, {
      settings: {
        ...tenant!.settings,
        policy: {
          mode: 'extend',
          rules: [{ roles: ['member'], inverted: true, action: 'typing', subject: 'Channel' }],
          etag: 'other-node',
          updatedAt: new Date().toISOString(),
        },
      },
    });
    await quiet(50);
    expect(bob.eventsOf('rules.updated')).toEqual([]);
    const g = await group(c);
    await expectFrameError(bob.request({ type: 'typing.start', channelId: g.id }), 'NATTER_AUTH_FORBIDDEN');
    const kinds = bob.frames.map((f) => (f.type === 'event' ? f.event : f.type));
    expect(kinds.slice(-2)).toEqual(['rules.updated', 'error']);
    await bob.close();
  });

  it("a role change (user.updated) pushes the user's new rules", async () => {
    const s = await support(c);
    const vic = await c.connect('vic');
    expectOk(await c.backend.post('/v1/users', { users: [{ id: 'vic', name: 'Vic' }] }));
    await quiet(100);
    expect(vic.eventsOf('rules.updated')).toEqual([]);
    expectOk(await c.backend.post('/v1/users', { users: [{ id: 'vic', role: 'moderator' }] }));
    const updated = await vic.nextEvent('rules.updated');
    const ability = createMongoAbility(unpackRules<RawRuleOf<MongoAbility>>(updated.data.rules as never));
    expect(ability.can('read', subject('Channel', { type: 'support', isMember: false }))).toBe(true);
    expect((await vic.request({ type: 'subscribe', channelId: s.id })).channel.id).toBe(s.id);
    expectOk(await c.backend.post('/v1/users', { users: [{ id: 'vic', role: 'guest' }] }));
    await vic.nextEvent('rules.updated');
    expect(await vic.nextEvent('subscription.ended')).toMatchObject({ channelId: s.id });
    await vic.close();
  });
});
