/**
 * Blocks: a user blocks another, who can then no longer send them direct messages. Only the
 * blocked direction, only direct channels, and history stays readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError } from '../realtime/helpers.js';
import { ok, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('blocks', () => {
  it('stop direct messages from the blocked user only', async () => {
    const s = await stage(h);
    const annBob = (await ok(s.as('ann').post('/v1/channels', { type: 'direct', members: ['bob'] }), 201)).channel;
    const catBob = (await ok(s.as('cat').post('/v1/channels', { type: 'direct', members: ['bob'] }), 201)).channel;
    await send(s.as('bob'), annBob.id, 'hi ann');

    const first = await s.as('ann').put('/v1/blocks/bob');
    expect(first.status).toBe(201);
    expect(first.body.block).toMatchObject({ userId: 'ann', blockedUserId: 'bob' });
    expect((await s.as('ann').put('/v1/blocks/bob')).status).toBe(200);

    expectError(
      await s.as('bob').post(`/v1/channels/${annBob.id}/messages`, { text: 'hello?' }),
      'NATTER_USER_BLOCKED',
    );
    const bob = await s.connect('bob');
    await expectFrameError(
      bob.request({ type: 'message.send', channelId: annBob.id, text: 'ws' }),
      'NATTER_USER_BLOCKED',
    );
    // History stays readable, and the blocker may still write.
    expect((await s.as('bob').get(`/v1/channels/${annBob.id}/messages`)).body.messages).toHaveLength(1);
    await send(s.as('ann'), annBob.id, 'please stop');
    // Other conversations of bob are not affected, nor are group channels with ann.
    await send(s.as('bob'), catBob.id, 'hi cat');
    await send(s.as('bob'), s.group.id, 'hi group');
    // A new DM of the same pair is the same channel, still blocked.
    const again = await s.as('bob').post('/v1/channels', { type: 'direct', members: ['ann'] });
    expect(again.body.channel.id).toBe(annBob.id);
    expectError(await s.as('bob').post(`/v1/channels/${annBob.id}/messages`, { text: 'x' }), 'NATTER_USER_BLOCKED');

    expect((await ok(s.as('ann').get('/v1/blocks'))).items).toMatchObject([{ blockedUserId: 'bob' }]);
    expect((await ok(s.as('bob').get('/v1/blocks'))).items).toEqual([]);
    expect((await s.as('ann').delete('/v1/blocks/bob')).status).toBe(204);
    expect((await s.as('ann').delete('/v1/blocks/bob')).status).toBe(204);
    await send(s.as('bob'), annBob.id, 'friends again');
    await s.closeSockets();
  });

  it('belong to users: not yourself, not an unknown user, not with an API key', async () => {
    const s = await stage(h);
    expectError(await s.as('ann').put('/v1/blocks/ann'), 'NATTER_REQUEST_INVALID', 'userId');
    expectError(await s.as('ann').put('/v1/blocks/ghost'), 'NATTER_USER_NOT_FOUND', 'userId');
    expectError(await s.t.api.put('/v1/blocks/ann'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await s.t.api.get('/v1/blocks'), 'NATTER_AUTH_FORBIDDEN');
  });
});
