/**
 * Frames are authorized like the REST calls they mirror, and authorization follows membership
 * at once: a removed member stops receiving the channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, expectFrameError, quiet, restSend, type World, world } from './helpers.js';

let h: TestServer;
let w: World;
beforeAll(async () => {
  h = await startTestServer();
  w = await world(h, ['ann', 'bob', 'cat', 'dan', { id: 'boss', role: 'admin' }]);
});
afterAll(() => h.close());

describe('channels a user may not see', () => {
  it('subscribing to a group one is not a member of answers like a missing channel', async () => {
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const cat = await w.connect('cat');
    const hidden = await expectFrameError(
      cat.request({ type: 'subscribe', channelId }),
      'NATTER_CHANNEL_NOT_FOUND',
      'channelId',
    );
    const missing = await expectFrameError(
      cat.request({ type: 'subscribe', channelId: 'no-such-channel' }),
      'NATTER_CHANNEL_NOT_FOUND',
      'channelId',
    );
    expect(hidden.body).toEqual(missing.body);
    for (const frame of [
      { type: 'message.send', channelId, text: 'hi' },
      { type: 'typing.start', channelId },
      { type: 'read', channelId },
    ] as const) {
      await expectFrameError(cat.request(frame), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    }
    // And nothing leaks to the refused subscriber.
    await restSend(w.users.ann!.api, channelId, { text: 'private' });
    await quiet();
    expect(cat.events).toEqual([]);
    await cat.close();
  });

  it('a tenant admin may subscribe to any channel', async () => {
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann'] });
    const boss = await w.connect('boss');
    await boss.request({ type: 'subscribe', channelId });
    await restSend(w.users.ann!.api, channelId, { text: 'seen by the admin' });
    expect(await boss.nextEvent('message.new')).toMatchObject({ data: { message: { text: 'seen by the admin' } } });
    await boss.close();
  });
});

describe('public channels', () => {
  it('anyone may subscribe and read; only its managers may post', async () => {
    const { id: channelId } = await backendChannel(w.t, {
      type: 'public',
      name: 'announcements',
      members: [{ userId: 'ann', role: 'owner' }, 'bob'],
    });
    const [ann, bob, cat] = await Promise.all([w.connect('ann'), w.connect('bob'), w.connect('cat')]);
    const sub = await cat.request({ type: 'subscribe', channelId });
    expect(sub.channel).toMatchObject({ id: channelId, type: 'public' });
    await bob.request({ type: 'subscribe', channelId });

    const posted = await ann.request({ type: 'message.send', channelId, text: 'welcome all' });
    expect(await cat.nextEvent('message.new')).toMatchObject({ data: { message: { id: posted.message.id } } });

    // A plain member and a non-member may not post, type or react.
    await expectFrameError(bob.request({ type: 'message.send', channelId, text: 'me too' }), 'NATTER_AUTH_FORBIDDEN');
    await expectFrameError(cat.request({ type: 'message.send', channelId, text: 'me too' }), 'NATTER_AUTH_FORBIDDEN');
    await expectFrameError(cat.request({ type: 'typing.start', channelId }), 'NATTER_AUTH_FORBIDDEN');
    await expectFrameError(
      cat.request({ type: 'reaction.add', channelId, messageId: posted.message.id, reaction: 'x' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    await quiet();
    expect(cat.eventsOf('message.new')).toHaveLength(1);
    expect(cat.eventsOf('typing.start')).toHaveLength(0);
    await Promise.all([ann.close(), bob.close(), cat.close()]);
  });
});

describe('messages of others', () => {
  it("editing or deleting another member's message is forbidden; a moderator may delete it", async () => {
    const { id: channelId } = await backendChannel(w.t, {
      type: 'group',
      members: ['ann', 'bob', { userId: 'dan', role: 'moderator' }],
    });
    const [ann, bob, dan] = await Promise.all([w.connect('ann'), w.connect('bob'), w.connect('dan')]);
    const { message } = await ann.request({ type: 'message.send', channelId, text: 'mine' });
    await expectFrameError(
      bob.request({ type: 'message.edit', channelId, messageId: message.id, text: 'yours?' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    await expectFrameError(
      bob.request({ type: 'message.delete', channelId, messageId: message.id }),
      'NATTER_AUTH_FORBIDDEN',
    );
    expect(
      (await dan.request({ type: 'message.delete', channelId, messageId: message.id })).message.deletedAt,
    ).not.toBeNull();
    await Promise.all([ann.close(), bob.close(), dan.close()]);
  });
});

describe('removed members', () => {
  it('get member.removed then subscription.ended, on every connection, and nothing more from the channel', async () => {
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob', 'cat'] });
    const [ann, cat1, cat2] = await Promise.all([w.connect('ann'), w.connect('cat'), w.connect('cat')]);
    await Promise.all([ann, cat1, cat2].map((c) => c.request({ type: 'subscribe', channelId })));
    await restSend(w.users.ann!.api, channelId, { text: 'before' });
    for (const c of [cat1, cat2]) await c.nextEvent('message.new');

    // Messages keep flowing while the backend removes cat.
    const during = Promise.all(
      Array.from({ length: 10 }, (_, i) => restSend(w.users.ann!.api, channelId, { text: `during ${i}` })),
    );
    expect((await w.t.api.delete(`/v1/channels/${channelId}/members/cat`)).status).toBe(204);
    await during;
    const after = await restSend(w.users.ann!.api, channelId, { text: 'after' });
    await ann.nextEvent('message.new', (e) => e.data.message.id === after.id);

    for (const c of [cat1, cat2]) {
      const ended = await c.nextEvent('subscription.ended');
      expect(ended).toMatchObject({ channelId, data: { reason: 'NATTER_MEMBER_NOT_FOUND' } });
      const names = c.events.map((e) => e.event);
      const endedAt = names.indexOf('subscription.ended');
      expect(names[endedAt - 1]).toBe('member.removed');
      expect(c.events.slice(endedAt + 1)).toEqual([]);
      expect(c.seqs(channelId)).not.toContain(after.seq);
      // The subscription is gone, and cannot be taken again.
      await expectFrameError(c.request({ type: 'unsubscribe', channelId }), 'NATTER_NOT_SUBSCRIBED');
      await expectFrameError(c.request({ type: 'subscribe', channelId }), 'NATTER_CHANNEL_NOT_FOUND');
    }
    await quiet();
    await restSend(w.users.ann!.api, channelId, { text: 'later' });
    await ann.nextEvent('message.new', (e) => e.data.message.text === 'later');
    await quiet();
    for (const c of [cat1, cat2])
      expect(c.eventsOf('message.new').some((e) => e.data.message.text === 'later')).toBe(false);
    await Promise.all([ann.close(), cat1.close(), cat2.close()]);
  });

  it('a member who leaves a public channel keeps reading it', async () => {
    const { id: channelId } = await backendChannel(w.t, {
      type: 'public',
      members: [{ userId: 'ann', role: 'owner' }, 'bob'],
    });
    const [ann, bob] = await Promise.all([w.connect('ann'), w.connect('bob')]);
    await Promise.all([ann, bob].map((c) => c.request({ type: 'subscribe', channelId })));
    expect((await w.users.bob!.api.delete(`/v1/channels/${channelId}/members/bob`)).status).toBe(204);
    await bob.nextEvent('member.removed');
    await ann.request({ type: 'message.send', channelId, text: 'still here?' });
    expect(await bob.nextEvent('message.new')).toMatchObject({ data: { message: { text: 'still here?' } } });
    expect(bob.eventsOf('subscription.ended')).toEqual([]);
    await Promise.all([ann.close(), bob.close()]);
  });
});
