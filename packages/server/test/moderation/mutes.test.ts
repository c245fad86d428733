/**
 * Mutes (a muted user reads, never sends, reacts or types) and slow mode (a second message within
 * the channel's interval answers 429 NATTER_SLOW_MODE with retryAfter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError } from '../realtime/helpers.js';
import { eventually, inMs, ok, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('mute', () => {
  it('lets the muted user read and subscribe, not send, react or type; the user is told, and unmuting lifts it', async () => {
    const s = await stage(h);
    const msg = await send(s.as('bob'), s.group.id, 'hello');
    const ann = await s.connect('ann');
    await ann.request({ type: 'subscribe', channelId: s.group.id });

    await ok(
      s.as('owen').post('/v1/moderation/mutes', {
        userId: 'ann',
        channelId: s.group.id,
        reason: 'cool down',
        expiresAt: inMs(600_000),
      }),
      201,
    );
    const notice = await ann.nextEvent('moderation.muted');
    expect(notice).toMatchObject({ channelId: s.group.id, data: { channelId: s.group.id, reason: 'cool down' } });
    expect(notice.data.expiresAt).toEqual(expect.any(String));

    const ch = `/v1/channels/${s.group.id}`;
    expectError(await s.as('ann').post(`${ch}/messages`, { text: 'x' }), 'NATTER_USER_MUTED');
    expectError(await s.as('ann').put(`${ch}/messages/${msg.id}/reactions/like`), 'NATTER_USER_MUTED');
    await expectFrameError(
      ann.request({ type: 'message.send', channelId: s.group.id, text: 'x' }),
      'NATTER_USER_MUTED',
    );
    await expectFrameError(ann.request({ type: 'typing.start', channelId: s.group.id }), 'NATTER_USER_MUTED');
    await expectFrameError(
      ann.request({ type: 'reaction.add', channelId: s.group.id, messageId: msg.id, reaction: 'x' }),
      'NATTER_USER_MUTED',
    );
    // Reading is fine: history, the live subscription, a new subscribe.
    expect((await s.as('ann').get(`${ch}/messages`)).status).toBe(200);
    await send(s.as('bob'), s.group.id, 'still hearing me?');
    await ann.nextEvent('message.new', (e) => e.data.message.text === 'still hearing me?');
    expect(ann.eventsOf('subscription.ended')).toEqual([]);
    await ann.request({ type: 'unsubscribe', channelId: s.group.id });
    await ann.request({ type: 'subscribe', channelId: s.group.id });
    // Other channels are not affected by a channel mute.
    const dm = await ok(s.as('ann').post('/v1/channels', { type: 'direct', members: ['bob'] }), 201);
    await send(s.as('ann'), dm.channel.id, 'in the DM');

    expect((await s.as('owen').delete(`/v1/moderation/mutes/ann?channelId=${s.group.id}`)).status).toBe(204);
    expect(await ann.nextEvent('moderation.unmuted')).toMatchObject({ data: { channelId: s.group.id } });
    await send(s.as('ann'), s.group.id, 'thanks');
    await ann.request({ type: 'typing.start', channelId: s.group.id });
    await s.closeSockets();
  });

  it('a tenant-wide mute applies in every channel until it expires; the backend is never muted', async () => {
    const s = await stage(h);
    await ok(s.as('mod').post('/v1/moderation/mutes', { userId: 'ann', expiresAt: inMs(1000) }), 201);
    const dm = await ok(s.as('bob').post('/v1/channels', { type: 'direct', members: ['ann'] }), 201);
    expectError(await s.as('ann').post(`/v1/channels/${dm.channel.id}/messages`, { text: 'x' }), 'NATTER_USER_MUTED');
    expectError(await s.as('ann').post(`/v1/channels/${s.group.id}/messages`, { text: 'x' }), 'NATTER_USER_MUTED');
    const listed = await ok(s.t.api.get('/v1/moderation/mutes'));
    expect(listed.items).toMatchObject([{ kind: 'mute', userId: 'ann', channelId: null, createdBy: 'mod' }]);
    // The backend sending on ann's behalf is the tenant's business, not a user action.
    expect(
      (await s.t.api.post(`/v1/channels/${s.group.id}/messages`, { text: 'via backend', userId: 'ann' })).status,
    ).toBe(201);
    await eventually(
      async () => (await s.as('ann').post(`/v1/channels/${s.group.id}/messages`, { text: 'free' })).status === 201,
    );
  });
});

describe('slow mode', () => {
  it('a manager sets it; a second send within the interval answers 429 NATTER_SLOW_MODE with retryAfter', async () => {
    const s = await stage(h);
    const ch = `/v1/channels/${s.group.id}`;
    expect((await ok(s.as('ann').get(ch))).channel.slowModeSeconds).toBe(0);
    expectError(await s.as('ann').patch(ch, { slowModeSeconds: 5 }), 'NATTER_AUTH_FORBIDDEN');
    expectError(
      await s.as('owen').patch(ch, { slowModeSeconds: -1 }),
      'NATTER_REQUEST_INVALID',
      'body.slowModeSeconds',
    );
    expectError(
      await s.as('owen').patch(ch, { slowModeSeconds: 1.5 }),
      'NATTER_REQUEST_INVALID',
      'body.slowModeSeconds',
    );
    const set = await ok(s.as('owen').patch(ch, { slowModeSeconds: 2 }));
    expect(set.channel.slowModeSeconds).toBe(2);

    await send(s.as('ann'), s.group.id, 'first');
    const second = await s.as('ann').post(`${ch}/messages`, { text: 'second' });
    expectError(second, 'NATTER_SLOW_MODE');
    expect(second.body.error.details.retryAfter).toBeGreaterThanOrEqual(1);
    expect(second.body.error.details.retryAfter).toBeLessThanOrEqual(2);
    // Per user: bob is free to send; thread replies count as sends.
    const bobs = await send(s.as('bob'), s.group.id, 'bob first');
    expectError(await s.as('bob').post(`${ch}/messages`, { text: 'reply', parentId: bobs.id }), 'NATTER_SLOW_MODE');
    // Over realtime too.
    const ann = await s.connect('ann');
    const fe = await expectFrameError(
      ann.request({ type: 'message.send', channelId: s.group.id, text: 'ws' }),
      'NATTER_SLOW_MODE',
    );
    expect(fe.body.details?.retryAfter).toBeGreaterThanOrEqual(1);
    // Managers and tenant staff are exempt, and so is the backend.
    await send(s.as('owen'), s.group.id, 'owner 1');
    await send(s.as('owen'), s.group.id, 'owner 2');
    await ok(s.t.api.post(`${ch}/members`, { members: ['mod'] }));
    await send(s.as('mod'), s.group.id, 'mod 1');
    await send(s.as('mod'), s.group.id, 'mod 2');

    // After the interval ann may send again; slow mode off lifts it at once.
    await eventually(async () => (await s.as('ann').post(`${ch}/messages`, { text: 'later' })).status === 201, 4000);
    await ok(s.as('owen').patch(ch, { slowModeSeconds: 0 }));
    await send(s.as('ann'), s.group.id, 'one');
    await send(s.as('ann'), s.group.id, 'two');
    await s.closeSockets();
  });
});
