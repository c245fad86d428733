/**
 * Bans: a banned user may not read or act (REST and realtime), a ban ends live subscriptions at
 * once, and it lifts when removed or when it expires. Kicks remove a member, optionally banning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError } from '../realtime/helpers.js';
import { eventually, inMs, ok, type Stage, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('channel ban', () => {
  let s: Stage;
  beforeAll(async () => {
    s = await stage(h);
  });
  afterAll(() => s.closeSockets());

  it('ends the live subscription at once, refuses sends, reads, reactions and subscribes, and leaves other channels alone', async () => {
    const msg = await send(s.as('bob'), s.group.id, 'before');
    const ann = await s.connect('ann');
    await ann.request({ type: 'subscribe', channelId: s.group.id });
    await ann.request({ type: 'subscribe', channelId: s.lobby.id });

    const body = await ok(
      s.as('owen').post('/v1/moderation/bans', { userId: 'ann', channelId: s.group.id, reason: 'spam' }),
      201,
    );
    expect(body.ban).toMatchObject({
      kind: 'ban',
      userId: 'ann',
      channelId: s.group.id,
      reason: 'spam',
      createdBy: 'owen',
      expiresAt: null,
    });

    const notice = await ann.nextEvent('moderation.banned');
    expect(notice).toMatchObject({
      channelId: s.group.id,
      data: { channelId: s.group.id, reason: 'spam', expiresAt: null },
    });
    const ended = await ann.nextEvent('subscription.ended');
    expect(ended).toMatchObject({ channelId: s.group.id, data: { reason: 'NATTER_USER_BANNED' } });
    expect(ann.events.indexOf(notice)).toBeLessThan(ann.events.indexOf(ended));

    // No more events of the channel reach the banned user; the other channel still flows.
    await send(s.as('bob'), s.group.id, 'after the ban');
    await send(s.as('owen'), s.lobby.id, 'lobby news');
    await ann.nextEvent('message.new', (e) => e.channelId === s.lobby.id);
    expect(ann.eventsOf('message.new', s.group.id).map((e) => e.data.message.text)).not.toContain('after the ban');

    const ch = `/v1/channels/${s.group.id}`;
    expectError(await s.as('ann').post(`${ch}/messages`, { text: 'let me in' }), 'NATTER_USER_BANNED');
    expectError(await s.as('ann').get(`${ch}/messages`), 'NATTER_USER_BANNED');
    expectError(await s.as('ann').put(`${ch}/messages/${msg.id}/reactions/like`), 'NATTER_USER_BANNED');
    expectError(await s.as('ann').post(`${ch}/messages/${msg.id}/flags`, { reason: 'x' }), 'NATTER_USER_BANNED');
    await expectFrameError(ann.request({ type: 'subscribe', channelId: s.group.id }), 'NATTER_USER_BANNED');
    await expectFrameError(
      ann.request({ type: 'message.send', channelId: s.group.id, text: 'ws' }),
      'NATTER_USER_BANNED',
    );
    // Elsewhere all is as before.
    expect((await s.as('ann').get(`/v1/channels/${s.lobby.id}/messages`)).status).toBe(200);
    await send(s.as('bob'), s.group.id, 'others still talk');

    // Lifting it: a notice, and everything works again.
    const lifted = await s.as('owen').delete(`/v1/moderation/bans/ann?channelId=${s.group.id}`);
    expect(lifted.status).toBe(204);
    expect(await ann.nextEvent('moderation.unbanned')).toMatchObject({ channelId: s.group.id });
    await ann.request({ type: 'subscribe', channelId: s.group.id });
    await send(s.as('ann'), s.group.id, 'back');
    // Lifting again is not an error.
    expect((await s.as('owen').delete(`/v1/moderation/bans/ann?channelId=${s.group.id}`)).status).toBe(204);
  });

  it('a new ban of the same scope replaces the old one (200) and bans are listed per scope', async () => {
    const first = await s.t.api.post('/v1/moderation/bans', { userId: 'cat', channelId: s.group.id, reason: 'one' });
    expect(first.status).toBe(201);
    const second = await s.t.api.post('/v1/moderation/bans', { userId: 'cat', channelId: s.group.id, reason: 'two' });
    expect(second.status).toBe(200);
    expect(second.body.ban).toMatchObject({ reason: 'two', createdBy: null });
    await ok(s.t.api.post('/v1/moderation/bans', { userId: 'bob' }), 201);

    const inGroup = await ok(s.as('owen').get(`/v1/moderation/bans?channelId=${s.group.id}`));
    expect(inGroup.items.map((b: { userId: string }) => b.userId)).toEqual(['cat']);
    const tenantWide = await ok(s.t.api.get('/v1/moderation/bans'));
    expect(tenantWide).toMatchObject({ items: [{ userId: 'bob', channelId: null }], next: null });
    expect((await s.as('owen').get('/v1/moderation/bans')).status).toBe(403);
    await ok(s.t.api.delete('/v1/moderation/bans/bob'), 204);
    await ok(s.t.api.delete(`/v1/moderation/bans/cat?channelId=${s.group.id}`), 204);
  });
});

describe('tenant-wide ban', () => {
  it('ends every subscription of every connection of the user and refuses every channel', async () => {
    const s = await stage(h);
    const [tab1, tab2, bob] = await Promise.all([s.connect('ann'), s.connect('ann'), s.connect('bob')]);
    for (const c of [tab1, tab2]) {
      await c.request({ type: 'subscribe', channelId: s.group.id });
      await c.request({ type: 'subscribe', channelId: s.lobby.id });
    }
    await bob.request({ type: 'subscribe', channelId: s.group.id });

    await ok(s.as('mod').post('/v1/moderation/bans', { userId: 'ann', reason: 'abuse' }), 201);
    for (const c of [tab1, tab2]) {
      expect(await c.nextEvent('moderation.banned')).toMatchObject({ data: { channelId: null, reason: 'abuse' } });
      expect(await c.nextEvent('moderation.banned', undefined, 100).catch(() => null)).toBeNull();
      const ended = [await c.nextEvent('subscription.ended'), await c.nextEvent('subscription.ended')];
      expect(ended.map((e) => e.channelId).sort()).toEqual([s.group.id, s.lobby.id].sort());
      for (const e of ended) expect(e.data.reason).toBe('NATTER_USER_BANNED');
    }
    expect(bob.eventsOf('subscription.ended')).toEqual([]);
    expect(bob.eventsOf('moderation.banned')).toEqual([]);
    expectError(await s.as('ann').get(`/v1/channels/${s.lobby.id}/messages`), 'NATTER_USER_BANNED');
    expectError(await s.as('ann').post(`/v1/channels/${s.group.id}/messages`, { text: 'x' }), 'NATTER_USER_BANNED');
    await expectFrameError(tab1.request({ type: 'subscribe', channelId: s.lobby.id }), 'NATTER_USER_BANNED');
    await s.closeSockets();
  });

  it('lifts by itself when it expires', async () => {
    const s = await stage(h);
    await ok(s.as('boss').post('/v1/moderation/bans', { userId: 'ann', expiresAt: inMs(1200) }), 201);
    expectError(await s.as('ann').post(`/v1/channels/${s.group.id}/messages`, { text: 'x' }), 'NATTER_USER_BANNED');
    const listed = await ok(s.t.api.get('/v1/moderation/bans'));
    expect(listed.items).toHaveLength(1);
    await eventually(
      async () => (await s.as('ann').post(`/v1/channels/${s.group.id}/messages`, { text: 'free' })).status === 201,
    );
    expect((await ok(s.t.api.get('/v1/moderation/bans'))).items).toEqual([]);
    const ann = await s.connect('ann');
    await ann.request({ type: 'subscribe', channelId: s.group.id });
    await s.closeSockets();
  });

  it('refuses an expiry in the past or that is not a date-time', async () => {
    const s = await stage(h);
    expectError(
      await s.t.api.post('/v1/moderation/bans', { userId: 'ann', expiresAt: inMs(-1000) }),
      'NATTER_REQUEST_INVALID',
      'expiresAt',
    );
    expectError(
      await s.t.api.post('/v1/moderation/bans', { userId: 'ann', expiresAt: 'tomorrow' }),
      'NATTER_REQUEST_INVALID',
      'body.expiresAt',
    );
    expectError(
      await s.t.api.post('/v1/moderation/bans', { userId: 'ann', extra: 1 }),
      'NATTER_REQUEST_INVALID',
      'body.extra',
    );
    expectError(await s.t.api.post('/v1/moderation/bans', { userId: 'ghost' }), 'NATTER_USER_NOT_FOUND', 'userId');
    expectError(
      await s.t.api.post('/v1/moderation/bans', { userId: 'ann', channelId: 'nope' }),
      'NATTER_CHANNEL_NOT_FOUND',
    );
  });
});

describe('kick', () => {
  it('removes the member and ends their subscription; with ban they cannot come back', async () => {
    const s = await stage(h);
    const bob = await s.connect('bob');
    await bob.request({ type: 'subscribe', channelId: s.group.id });
    const kicked = await ok(s.as('owen').post(`/v1/channels/${s.group.id}/kick/bob`, { reason: 'rude' }));
    expect(kicked).toEqual({ removed: true, ban: null });
    expect(await bob.nextEvent('subscription.ended')).toMatchObject({ data: { reason: 'NATTER_MEMBER_NOT_FOUND' } });
    expectError(await s.as('bob').get(`/v1/channels/${s.group.id}`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await s.as('owen').post(`/v1/channels/${s.group.id}/kick/bob`), 'NATTER_MEMBER_NOT_FOUND', 'userId');

    // From a public channel a plain kick is not enough: anyone may read it. Kick with a ban.
    await ok(s.as('cat').post(`/v1/channels/${s.lobby.id}/members`, { members: ['cat'] }));
    const cat = await s.connect('cat');
    await cat.request({ type: 'subscribe', channelId: s.lobby.id });
    const withBan = await ok(
      s.as('owen').post(`/v1/channels/${s.lobby.id}/kick/cat`, { ban: true, expiresAt: inMs(60_000) }),
    );
    expect(withBan).toMatchObject({ removed: true, ban: { kind: 'ban', userId: 'cat', channelId: s.lobby.id } });
    expect(await cat.nextEvent('subscription.ended')).toMatchObject({ data: { reason: 'NATTER_USER_BANNED' } });
    expectError(await s.as('cat').get(`/v1/channels/${s.lobby.id}/messages`), 'NATTER_USER_BANNED');
    await expectFrameError(cat.request({ type: 'subscribe', channelId: s.lobby.id }), 'NATTER_USER_BANNED');

    // Direct channels keep their two members.
    const dm = await ok(s.as('ann').post('/v1/channels', { type: 'direct', members: ['bob'] }), 201);
    expectError(await s.t.api.post(`/v1/channels/${dm.channel.id}/kick/bob`), 'NATTER_CHANNEL_INVALID_MEMBERS');
    await s.closeSockets();
  });
});
