/**
 * Every event type reaches the connections subscribed to it, whether the change came over the
 * socket or over REST.
 */
import type { EventFrame } from '@natter/protocol';
import { expandMessage } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeConfig } from '../../src/realtime/context.js';
import { TYPING_EXPIRE_MS } from '../../src/realtime/typing.js';
import { startTestServer, type TestServer } from '../harness.js';
import { backendChannel, expectFrameError, quiet, restSend, type World, world } from './helpers.js';
import type { WsClient } from './ws-client.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

/** Subscribes every client to `channelId`. */
async function subscribeAll(channelId: string, ...clients: WsClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.request({ type: 'subscribe', channelId })));
}

describe('message and reaction events', () => {
  let w: World;
  let ann: WsClient;
  let bob: WsClient;
  let channelId: string;
  beforeAll(async () => {
    w = await world(h, ['ann', 'bob', 'cat']);
    channelId = (await backendChannel(w.t, { type: 'group', members: [{ userId: 'ann', role: 'owner' }, 'bob'] })).id;
    [ann, bob] = await Promise.all([w.connect('ann'), w.connect('bob')]);
    await subscribeAll(channelId, ann!, bob!);
  });
  afterAll(() => w.closeSockets());

  it('message.new, message.updated, reaction.added/removed, read.updated and message.deleted reach every subscriber', async () => {
    const sent = await ann.request({ type: 'message.send', channelId, text: 'hello', clientMsgId: 'c1' });
    expect(sent).toMatchObject({
      created: true,
      message: { text: 'hello', seq: 1, authorId: 'ann', clientMsgId: 'c1' },
    });
    const messageId = sent.message.id;
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('message.new');
      expect(ev).toMatchObject({ channelId, seq: 1, data: { message: { id: messageId, text: 'hello' } } });
    }

    await ann.request({ type: 'message.edit', channelId, messageId, text: 'hello!' });
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('message.updated');
      expect(ev).toMatchObject({ channelId, data: { message: { id: messageId, text: 'hello!' } } });
      expect(ev.data.message.editedAt).not.toBeNull();
    }

    await bob.request({ type: 'reaction.add', channelId, messageId, reaction: '👍' });
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('reaction.added');
      expect(ev).toMatchObject({
        channelId,
        data: {
          reaction: { userId: 'bob', type: '👍', messageId },
          message: { id: messageId, reactionCounts: { '👍': 1 } },
        },
      });
    }
    await bob.request({ type: 'reaction.remove', channelId, messageId, reaction: '👍' });
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('reaction.removed');
      expect(ev).toMatchObject({
        channelId,
        data: { reaction: { userId: 'bob', type: '👍' }, message: { id: messageId } },
      });
    }

    const read = await bob.request({ type: 'read', channelId });
    expect(read.member).toMatchObject({ userId: 'bob', lastReadSeq: 1 });
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('read.updated');
      expect(ev).toMatchObject({ channelId, data: { member: { userId: 'bob', lastReadSeq: 1 } } });
    }

    await ann.request({ type: 'message.delete', channelId, messageId });
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('message.deleted');
      expect(ev).toMatchObject({ channelId, data: { message: { id: messageId, seq: 1 } } });
      expect(ev.data.message.deletedAt).not.toBeNull();
    }
  });

  it('carries messages in compact form: defaults left out, and expanding gives the stored message back', async () => {
    const raw: string[] = [];
    const onRaw = (data: Buffer) => raw.push(data.toString());
    bob.ws.on('message', onRaw);
    try {
      const sent = await ann.request({ type: 'message.send', channelId, text: 'compact me', clientMsgId: 'c-compact' });
      const ev = await bob.nextEvent('message.new', (e) => e.data.message.id === sent.message.id);
      const text = raw.find((r) => r.includes('"message.new"') && r.includes(sent.message.id));
      expect(text).toBeDefined();
      const wire = (JSON.parse(text!) as Extract<EventFrame, { event: 'message.new' }>).data.message;
      // The four fields every compact message starts with, then only what differs from the default.
      expect(Object.keys(wire)).toEqual(['id', 'channelId', 'seq', 'createdAt', 'clientMsgId', 'authorId', 'text']);
      expect(expandMessage(ev.data.message)).toEqual(sent.message);

      // A message whose fields have left their defaults carries them, and still expands to the stored one.
      const messageId = sent.message.id;
      await bob.request({ type: 'reaction.add', channelId, messageId, reaction: 'ok' });
      const edited = await ann.request({ type: 'message.edit', channelId, messageId, text: 'compact me!' });
      const upd = await bob.nextEvent('message.updated', (e) => e.data.message.text === 'compact me!');
      expect(upd.data.message).toMatchObject({ reactionCounts: { ok: 1 }, editedAt: expect.any(String) });
      expect(upd.data.message.updatedAt).toBeDefined();
      expect(expandMessage(upd.data.message)).toEqual(edited.message);
      const stored = await w.users.bob!.api.get(`/v1/channels/${channelId}/messages/${messageId}`);
      expect(expandMessage(upd.data.message)).toEqual(stored.body.message);
    } finally {
      bob.ws.off('message', onRaw);
    }
  });

  it('changes made over REST produce the same events', async () => {
    const msg = await restSend(w.users.ann!.api, channelId, { text: 'from rest' });
    const ev = await bob.nextEvent('message.new', (e) => e.data.message.id === msg.id);
    expect(ev.seq).toBe(msg.seq);
    expect((await w.users.bob!.api.put(`/v1/channels/${channelId}/messages/${msg.id}/reactions/ok`)).status).toBe(200);
    await ann.nextEvent('reaction.added', (e) => e.data.message.id === msg.id && e.data.reaction.type === 'ok');
    expect(
      (await w.users.ann!.api.patch(`/v1/channels/${channelId}/messages/${msg.id}`, { text: 'edited' })).status,
    ).toBe(200);
    await bob.nextEvent('message.updated', (e) => e.data.message.id === msg.id && e.data.message.text === 'edited');
  });

  it('a connection that is not subscribed gets none of the channel events; unsubscribe stops them', async () => {
    const idle = await w.connect('bob');
    await restSend(w.users.ann!.api, channelId, { text: 'not for idle' });
    await bob.nextEvent('message.new', (e) => e.data.message.text === 'not for idle');
    await quiet();
    expect(idle.events).toEqual([]);

    await idle.request({ type: 'subscribe', channelId });
    await idle.request({ type: 'unsubscribe', channelId });
    await expectFrameError(idle.request({ type: 'unsubscribe', channelId }), 'NATTER_NOT_SUBSCRIBED', 'channelId');
    await restSend(w.users.ann!.api, channelId, { text: 'after unsubscribe' });
    await bob.nextEvent('message.new', (e) => e.data.message.text === 'after unsubscribe');
    await quiet();
    expect(idle.events).toEqual([]);
  });
});

describe('typing', () => {
  it('the documented expiry is 6 s', () => {
    expect(TYPING_EXPIRE_MS).toBe(6000);
  });

  it('typing.start and typing.stop reach the others; a repeat start is throttled; without a refresh the server stops typing by itself', async () => {
    // Shortened (the gateway reads it at each start) so that the test need not wait 6 s.
    const realtime: RealtimeConfig = h.server.config.realtime;
    realtime.typingExpireMs = 1000;
    try {
      const w = await world(h, ['ann', 'bob']);
      const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
      const [ann, bob] = await Promise.all([w.connect('ann'), w.connect('bob')]);
      await subscribeAll(channelId, ann, bob);

      await bob.request({ type: 'typing.start', channelId });
      expect(await ann.nextEvent('typing.start')).toMatchObject({ channelId, data: { userId: 'bob' } });
      await bob.request({ type: 'typing.stop', channelId });
      expect(await ann.nextEvent('typing.stop')).toMatchObject({ channelId, data: { userId: 'bob' } });

      const started = Date.now();
      await bob.request({ type: 'typing.start', channelId });
      await ann.nextEvent('typing.start');
      // A refresh within the throttle window is not broadcast again, but pushes the expiry back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await bob.request({ type: 'typing.start', channelId });
      expect(await ann.nextEvent('typing.stop', undefined, 5000)).toMatchObject({ channelId, data: { userId: 'bob' } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1250);
      expect(ann.eventsOf('typing.start')).toHaveLength(2);
      expect(ann.eventsOf('typing.stop')).toHaveLength(2);
      await w.closeSockets();
    } finally {
      delete realtime.typingExpireMs;
    }
  });
});

describe('presence', () => {
  it('presence.changed online with the first connection, offline only when the last one closes', async () => {
    const w = await world(h, ['ann', 'dan']);
    const ann = await w.connect('ann');
    const { presence } = await ann.request({ type: 'presence.subscribe', userIds: ['dan', 'nobody'] });
    expect(presence).toEqual([
      { userId: 'dan', online: false },
      { userId: 'nobody', online: false },
    ]);

    const dan1 = await w.connect('dan');
    expect(await ann.nextEvent('presence.changed')).toMatchObject({ data: { userId: 'dan', online: true } });
    expect((await ann.request({ type: 'presence.subscribe', userIds: ['dan'] })).presence).toEqual([
      { userId: 'dan', online: true },
    ]);
    const dan2 = await w.connect('dan');
    await dan1.close();
    await quiet();
    expect(ann.eventsOf('presence.changed')).toHaveLength(1);

    await dan2.close();
    const offline = await ann.nextEvent('presence.changed');
    expect(offline).toMatchObject({ data: { userId: 'dan', online: false } });
    expect(offline.channelId).toBeUndefined();

    await ann.request({ type: 'presence.unsubscribe', userIds: ['dan'] });
    const dan3 = await w.connect('dan');
    await quiet();
    expect(ann.eventsOf('presence.changed')).toHaveLength(2);
    await dan3.close();
    await ann.close();
  });
});

describe('membership and channel events', () => {
  it('member.added, member.removed and channel.updated', async () => {
    const w = await world(h, ['ann', 'bob', 'cat']);
    const { id: channelId } = await backendChannel(w.t, {
      type: 'group',
      members: [{ userId: 'ann', role: 'owner' }, 'bob'],
    });
    const [ann, bob] = await Promise.all([w.connect('ann'), w.connect('bob')]);
    await subscribeAll(channelId, ann, bob);

    expect((await w.t.api.post(`/v1/channels/${channelId}/members`, { members: ['cat'] })).status).toBe(200);
    for (const c of [ann, bob]) {
      const ev = await c.nextEvent('member.added');
      expect(ev).toMatchObject({ channelId, data: { members: [{ userId: 'cat', role: 'member' }] } });
    }
    expect((await w.users.ann!.api.delete(`/v1/channels/${channelId}/members/cat`)).status).toBe(204);
    for (const c of [ann, bob])
      expect(await c.nextEvent('member.removed')).toMatchObject({ channelId, data: { userIds: ['cat'] } });

    expect((await w.users.ann!.api.patch(`/v1/channels/${channelId}`, { name: 'Renamed' })).status).toBe(200);
    for (const c of [ann, bob])
      expect(await c.nextEvent('channel.updated')).toMatchObject({
        channelId,
        data: { channel: { id: channelId, name: 'Renamed' } },
      });
    await w.closeSockets();
  });

  it('channel.ended for a support conversation', async () => {
    const w = await world(h, ['visitor', 'agent']);
    const { id: channelId } = await backendChannel(w.t, {
      type: 'support',
      members: [
        { userId: 'visitor', role: 'visitor' },
        { userId: 'agent', role: 'agent' },
      ],
    });
    const [visitor, agent] = await Promise.all([w.connect('visitor'), w.connect('agent')]);
    await subscribeAll(channelId, visitor, agent);
    expect((await w.users.agent!.api.post(`/v1/channels/${channelId}/end`)).status).toBe(200);
    for (const c of [visitor, agent]) {
      const ev = await c.nextEvent('channel.ended');
      expect(ev).toMatchObject({ channelId, data: { channel: { id: channelId, type: 'support' } } });
      expect(ev.data.channel.endedAt).not.toBeNull();
    }
    await expectFrameError(
      visitor.request({ type: 'message.send', channelId, text: 'too late' }),
      'NATTER_CHANNEL_ENDED',
    );
    await w.closeSockets();
  });

  it('channel.deleted, then subscription.ended; the subscription is gone', async () => {
    const w = await world(h, ['ann', 'bob']);
    const { id: channelId } = await backendChannel(w.t, { type: 'group', members: ['ann', 'bob'] });
    const [ann, bob] = await Promise.all([w.connect('ann'), w.connect('bob')]);
    await subscribeAll(channelId, ann, bob);
    expect((await w.t.api.delete(`/v1/channels/${channelId}`)).status).toBe(204);
    for (const c of [ann, bob]) {
      await c.waitFor(() => c.events.some((e) => e.event === 'subscription.ended'));
      const names = c.events.filter((e) => e.channelId === channelId).map((e: EventFrame) => e.event);
      expect(names).toEqual(['channel.deleted', 'subscription.ended']);
      expect(c.eventsOf('subscription.ended')[0]).toMatchObject({
        channelId,
        data: { reason: 'NATTER_CHANNEL_NOT_FOUND' },
      });
      await expectFrameError(c.request({ type: 'unsubscribe', channelId }), 'NATTER_NOT_SUBSCRIBED');
    }
    await w.closeSockets();
  });
});
