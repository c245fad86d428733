/**
 * The final rules, which no policy lifts: frozen and ended channels and the edit window through
 * the real server; bans, mutes, blocks and slow mode through `channelFor` / `authorize` on the
 * real store, with the restrictions given by hand (the moderation service computes them; the
 * restrictions source is the seam it plugs into).
 */
import type { Channel, ErrorCode, Message, User } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelAction } from '../../src/domain/policy.js';
import { NO_RESTRICTIONS, type Restrictions } from '../../src/domain/restrictions.js';
import { NatterError } from '../../src/errors.js';
import { authorize, channelFor, type ServiceDeps, type TenantCtx } from '../../src/services/context.js';
import { createPolicyHub } from '../../src/services/policy.js';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError } from '../realtime/helpers.js';
import { type Cast, cast, direct, expectOk, group, publicChannel, support } from './helpers.js';

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

const messagePath = (channelId: string, messageId: string) => `/v1/channels/${channelId}/messages/${messageId}`;

describe('channel state (real server)', () => {
  it('[final.frozen] a frozen channel takes no messages, reactions, typing or edits; deleting stays possible', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    expectOk(await c.as('ann').patch(`/v1/channels/${g.id}`, { frozen: true }));
    for (const who of ['bob', 'ann'] as const) {
      expectError(await c.as(who).post(`/v1/channels/${g.id}/messages`, { text: 'x' }), 'NATTER_CHANNEL_FROZEN');
    }
    expectError(await c.as('bob').put(`${messagePath(g.id, m.id)}/reactions/like`), 'NATTER_CHANNEL_FROZEN');
    expectError(await c.as('bob').patch(messagePath(g.id, m.id), { text: 'edit' }), 'NATTER_CHANNEL_FROZEN');
    const bob = await c.connect('bob');
    await expectFrameError(bob.request({ type: 'typing.start', channelId: g.id }), 'NATTER_CHANNEL_FROZEN');
    await bob.close();
    expectOk(await c.as('bob').delete(messagePath(g.id, m.id)));
    expectOk(await c.as('ann').patch(`/v1/channels/${g.id}`, { frozen: false }));
    expectOk(await c.as('bob').post(`/v1/channels/${g.id}/messages`, { text: 'thawed' }));
  });

  it('[final.ended] an ended support conversation takes no messages, reactions, typing or edits', async () => {
    const s = await support(c);
    const m = await c.send('gus', s.id);
    expectOk(await c.as('ann').post(`/v1/channels/${s.id}/end`));
    expectError(await c.as('gus').post(`/v1/channels/${s.id}/messages`, { text: 'x' }), 'NATTER_CHANNEL_ENDED');
    expectError(await c.as('ann').put(`${messagePath(s.id, m.id)}/reactions/like`), 'NATTER_CHANNEL_ENDED');
    expectError(await c.as('gus').patch(messagePath(s.id, m.id), { text: 'edit' }), 'NATTER_CHANNEL_ENDED');
    const gus = await c.connect('gus');
    await expectFrameError(gus.request({ type: 'typing.start', channelId: s.id }), 'NATTER_CHANNEL_ENDED');
    await gus.close();
  });
});

describe('the edit window (real server, NATTER_EDIT_WINDOW=60, a test clock)', () => {
  it('[final.editWindow] authors edit for NATTER_EDIT_WINDOW seconds, then not; no policy lifts it', async () => {
    let now = Date.now();
    const timed = await startTestServer({ NATTER_EDIT_WINDOW: '60' }, { now: () => new Date(now) });
    try {
      const t = await cast(timed);
      const g = await group(t);
      const m = await t.send('bob', g.id);
      now += 60_000;
      expectOk(await t.as('bob').patch(messagePath(g.id, m.id), { text: 'just in time' }));
      now += 1_000;
      const late = await t.as('bob').patch(messagePath(g.id, m.id), { text: 'too late' });
      expectError(late, 'NATTER_AUTH_FORBIDDEN');
      expect(late.body.error.message).toContain('60 seconds');
      expectOk(await t.backend.put('/v1/policy', { mode: 'extend', rules: [{ action: 'edit', subject: 'Message' }] }));
      expectError(await t.as('bob').patch(messagePath(g.id, m.id), { text: 'policy?' }), 'NATTER_AUTH_FORBIDDEN');
      // The backend is not held to it.
      expectOk(await t.backend.patch(messagePath(g.id, m.id), { text: 'by the backend' }));
      await t.closeSockets();
    } finally {
      await timed.close();
    }
  });

  it('[final.editWindow] without NATTER_EDIT_WINDOW (0) there is no limit', async () => {
    let now = Date.now();
    const timed = await startTestServer({}, { now: () => new Date(now) });
    try {
      const t = await cast(timed);
      const g = await group(t);
      const m = await t.send('bob', g.id);
      now += 24 * 3600_000;
      expectOk(await t.as('bob').patch(messagePath(g.id, m.id), { text: 'a day later' }));
      await t.closeSockets();
    } finally {
      await timed.close();
    }
  });
});

describe('moderation state through the real server (bans and mutes from the moderation API)', () => {
  it('[final.muted] a muted member may not edit their messages either, which only the final rules forbid', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    expectOk(await c.backend.post('/v1/moderation/mutes', { userId: 'bob', channelId: g.id }));
    expectError(await c.as('bob').patch(messagePath(g.id, m.id), { text: 'edit' }), 'NATTER_USER_MUTED');
    expectError(await c.as('bob').post(`/v1/channels/${g.id}/messages`, { text: 'x' }), 'NATTER_USER_MUTED');
    expectOk(await c.as('bob').get(`/v1/channels/${g.id}/messages`));
    expect((await c.backend.delete(`/v1/moderation/mutes/bob?channelId=${g.id}`)).status).toBe(204);
    expectOk(await c.as('bob').patch(messagePath(g.id, m.id), { text: 'edit' }));
  });

  it('[final.banned] a banned member learns it on every route of the channel but leaving it', async () => {
    const g = await group(c);
    expectOk(await c.backend.post('/v1/moderation/bans', { userId: 'bob', channelId: g.id }));
    for (const path of [`/v1/channels/${g.id}`, `/v1/channels/${g.id}/members`, `/v1/channels/${g.id}/messages`]) {
      expectError(await c.as('bob').get(path), 'NATTER_USER_BANNED');
    }
    expectError(await c.as('bob').post(`/v1/channels/${g.id}/read`), 'NATTER_USER_BANNED');
    expect((await c.as('bob').delete(`/v1/channels/${g.id}/members/bob`)).status).toBe(204);
  });
});

describe('moderation state (channelFor on the real store; restrictions given by hand, as the moderation service gives them)', () => {
  let tenantCtx: (who: string, restrictions: Restrictions) => Promise<TenantCtx>;
  beforeAll(() => {
    tenantCtx = async (who, restrictions) => {
      const tenant = await h.server.store.platform.getTenant(c.t.tenantId);
      const db = h.server.store.tenant(c.t.tenantId);
      const user = (await db.getUser(who)) as User;
      // Only what authorization reads: the restrictions source, the edit window and the clock.
      const deps = {
        editWindow: 0,
        now: () => new Date(),
        policies: createPolicyHub(),
        restrictions: async () => restrictions,
      };
      return {
        actor: { kind: 'user', tenantId: c.t.tenantId, user },
        tenant: tenant!,
        db,
        deps: deps as unknown as ServiceDeps,
      };
    };
  });

  async function refusal(promise: Promise<unknown>): Promise<NatterError> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatterError);
    return err as NatterError;
  }
  const expectCode = async (promise: Promise<unknown>, code: ErrorCode) =>
    expect((await refusal(promise)).code).toBe(code);
  const onMessage = async (ctx: TenantCtx, action: ChannelAction, ch: Channel, m: Message) => {
    const member = await ctx.db.getMember(ch.id, (ctx.actor as { user: User }).user.id);
    return authorize(ctx, action, { channel: ch, member, message: m });
  };

  it('[final.banned] banned: NATTER_USER_BANNED for everything in a channel one could read, but leaving; 404 for the rest', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    const ctx = await tenantCtx('bob', { ...NO_RESTRICTIONS, banned: true });
    for (const action of ['read', 'send', 'typing', 'markRead', 'readMembers'] as const)
      await expectCode(channelFor(ctx, g.id, action), 'NATTER_USER_BANNED');
    await expectCode(onMessage(ctx, 'deleteMessage', g, m), 'NATTER_USER_BANNED');
    await expect(channelFor(ctx, g.id, 'leave')).resolves.toMatchObject({ channel: { id: g.id } });
    const other = await c.channel({ type: 'group', members: ['ann'] });
    await expectCode(channelFor(ctx, other.id, 'read'), 'NATTER_CHANNEL_NOT_FOUND');
    await expect(channelFor(await tenantCtx('bob', NO_RESTRICTIONS), g.id, 'read')).resolves.toBeTruthy();
  });

  it('[final.muted] muted: NATTER_USER_MUTED for sending, typing, reacting and editing; reading and deleting stay', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    const ctx = await tenantCtx('bob', { ...NO_RESTRICTIONS, muted: true });
    await expectCode(channelFor(ctx, g.id, 'send'), 'NATTER_USER_MUTED');
    await expectCode(channelFor(ctx, g.id, 'typing'), 'NATTER_USER_MUTED');
    await expectCode(onMessage(ctx, 'react', g, m), 'NATTER_USER_MUTED');
    await expectCode(onMessage(ctx, 'editMessage', g, m), 'NATTER_USER_MUTED');
    await expect(channelFor(ctx, g.id, 'read')).resolves.toBeTruthy();
    await expect(onMessage(ctx, 'deleteMessage', g, m)).resolves.toBeUndefined();
    // The policy first: who may not post at all is told that, muted or not.
    const pub = await publicChannel(c);
    await expectCode(channelFor(ctx, pub.id, 'send'), 'NATTER_AUTH_FORBIDDEN');
    await expect(channelFor(await tenantCtx('bob', NO_RESTRICTIONS), g.id, 'send')).resolves.toBeTruthy();
  });

  it('[final.blocked] blocked by the peer: NATTER_USER_BLOCKED for sending, typing and reacting', async () => {
    const dm = await direct(c);
    const m = await c.send('ann', dm.id);
    const ctx = await tenantCtx('bob', { ...NO_RESTRICTIONS, blockedByPeer: true });
    await expectCode(channelFor(ctx, dm.id, 'send'), 'NATTER_USER_BLOCKED');
    await expectCode(channelFor(ctx, dm.id, 'typing'), 'NATTER_USER_BLOCKED');
    await expectCode(onMessage(ctx, 'react', dm, m), 'NATTER_USER_BLOCKED');
    await expect(channelFor(ctx, dm.id, 'read')).resolves.toBeTruthy();
  });

  it('[final.slowMode] slow mode: NATTER_SLOW_MODE with retryAfter for sending only', async () => {
    const g = await group(c);
    const m = await c.send('ann', g.id);
    const ctx = await tenantCtx('bob', { ...NO_RESTRICTIONS, slowModeWait: 7 });
    const err = await refusal(channelFor(ctx, g.id, 'send'));
    expect({ code: err.code, status: err.status, retryAfter: err.details?.retryAfter }).toEqual({
      code: 'NATTER_SLOW_MODE',
      status: 429,
      retryAfter: 7,
    });
    await expect(channelFor(ctx, g.id, 'typing')).resolves.toBeTruthy();
    await expect(onMessage(ctx, 'react', g, m)).resolves.toBeUndefined();
  });
});
