/**
 * Flags and the moderation queue: any reader flags a message; staff (and channel managers, for
 * their channel) list open flags with their messages, dismiss them or delete the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { ok, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

const flagsPath = (channelId: string, messageId: string) => `/v1/channels/${channelId}/messages/${messageId}/flags`;

describe('flags and the moderation queue', () => {
  it('readers flag messages; flags appear in the queue with their message, oldest first', async () => {
    const s = await stage(h);
    const rude = await send(s.as('bob'), s.group.id, 'rude words');
    const news = await send(s.as('owen'), s.lobby.id, 'lobby post');

    const first = await s.as('ann').post(flagsPath(s.group.id, rude.id), { reason: 'insulting' });
    expect(first.status).toBe(201);
    expect(first.body.flag).toMatchObject({
      messageId: rude.id,
      channelId: s.group.id,
      reporterId: 'ann',
      reason: 'insulting',
      status: 'open',
    });
    // The same reporter again: the open flag, 200.
    const repeat = await s.as('ann').post(flagsPath(s.group.id, rude.id), { reason: 'still insulting' });
    expect(repeat.status).toBe(200);
    expect(repeat.body.flag.id).toBe(first.body.flag.id);
    await ok(s.as('cat').post(flagsPath(s.group.id, rude.id), { reason: 'me too' }), 201);
    // A public channel's message may be flagged by any reader, member or not.
    await ok(s.as('cat').post(flagsPath(s.lobby.id, news.id), { reason: 'spam' }), 201);

    // Who may not flag: a non-member of a group (it does not exist for them), and nobody flags a tombstone.
    expectError(await s.as('dan').post(flagsPath(s.group.id, rude.id), { reason: 'x' }), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await s.as('ann').post(flagsPath(s.group.id, 'msg_nope'), { reason: 'x' }), 'NATTER_MESSAGE_NOT_FOUND');
    expectError(
      await s.as('ann').post(flagsPath(s.group.id, rude.id), { reason: '' }),
      'NATTER_REQUEST_INVALID',
      'body.reason',
    );
    expectError(await s.as('ann').post(flagsPath(s.group.id, rude.id), {}), 'NATTER_REQUEST_INVALID', 'body.reason');

    const queue = await ok(s.as('mod').get('/v1/moderation/queue'));
    expect(queue.items.map((i: { flag: { reason: string } }) => i.flag.reason)).toEqual([
      'insulting',
      'me too',
      'spam',
    ]);
    expect(queue.items[0].message).toMatchObject({ id: rude.id, text: 'rude words', authorId: 'bob' });
    expect((await ok(s.t.api.get('/v1/moderation/queue?limit=2'))).next).toEqual(expect.any(String));
    // A channel manager sees their channel's queue, and must name it.
    const owners = await ok(s.as('owen').get(`/v1/moderation/queue?channelId=${s.lobby.id}`));
    expect(owners.items.map((i: { flag: { reason: string } }) => i.flag.reason)).toEqual(['spam']);
    expectError(await s.as('owen').get('/v1/moderation/queue'), 'NATTER_AUTH_FORBIDDEN');
    // Plain members see no queue.
    expectError(await s.as('ann').get('/v1/moderation/queue'), 'NATTER_AUTH_FORBIDDEN');
    expectError(await s.as('ann').get(`/v1/moderation/queue?channelId=${s.group.id}`), 'NATTER_AUTH_FORBIDDEN');
  });

  it('dismissing closes one flag; deleting the message tombstones it and closes all its flags', async () => {
    const s = await stage(h);
    const spam = await send(s.as('bob'), s.group.id, 'buy now');
    const meh = await send(s.as('bob'), s.group.id, 'meh');
    const bob = await s.connect('bob');
    await bob.request({ type: 'subscribe', channelId: s.group.id });
    const f1 = (await ok(s.as('ann').post(flagsPath(s.group.id, spam.id), { reason: 'spam' }), 201)).flag;
    const f2 = (await ok(s.as('cat').post(flagsPath(s.group.id, spam.id), { reason: 'ads' }), 201)).flag;
    const f3 = (await ok(s.as('ann').post(flagsPath(s.group.id, meh.id), { reason: 'boring' }), 201)).flag;

    expectError(
      await s.as('ann').post(`/v1/moderation/queue/${f3.id}/resolve`, { action: 'dismiss' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    expectError(
      await s.as('mod').post(`/v1/moderation/queue/${f3.id}/resolve`, { action: 'ban' }),
      'NATTER_REQUEST_INVALID',
      'body.action',
    );
    const dismissed = await ok(s.as('owen').post(`/v1/moderation/queue/${f3.id}/resolve`, { action: 'dismiss' }));
    expect(dismissed.flag).toMatchObject({
      id: f3.id,
      status: 'resolved',
      resolution: 'dismissed',
      resolvedBy: 'owen',
    });
    expect((await s.as('bob').get(`/v1/channels/${s.group.id}/messages/${meh.id}`)).body.message.text).toBe('meh');

    const deleted = await ok(s.as('mod').post(`/v1/moderation/queue/${f1.id}/resolve`, { action: 'delete_message' }));
    expect(deleted.flag).toMatchObject({
      id: f1.id,
      status: 'resolved',
      resolution: 'message_deleted',
      resolvedBy: 'mod',
    });
    expect(deleted.resolved.map((f: { id: string }) => f.id).sort()).toEqual([f1.id, f2.id].sort());
    const tomb = (await s.as('ann').get(`/v1/channels/${s.group.id}/messages/${spam.id}`)).body.message;
    expect(tomb).toMatchObject({ type: 'deleted', text: null });
    expect(await bob.nextEvent('message.deleted')).toMatchObject({ data: { message: { id: spam.id } } });
    // Nothing leaks to the channel about who flagged what.
    expect(bob.events.map((e) => e.event)).not.toContain('message.flagged');
    expect((await ok(s.t.api.get('/v1/moderation/queue'))).items).toEqual([]);

    // Resolving again returns the flag unchanged; an unknown flag is 404.
    const again = await ok(s.t.api.post(`/v1/moderation/queue/${f2.id}/resolve`, { action: 'dismiss' }));
    expect(again).toMatchObject({ flag: { id: f2.id, resolution: 'message_deleted' }, resolved: [] });
    expectError(
      await s.t.api.post('/v1/moderation/queue/flg_nope/resolve', { action: 'dismiss' }),
      'NATTER_MESSAGE_NOT_FOUND',
      'flagId',
    );
    expectError(await s.as('ann').post(flagsPath(s.group.id, spam.id), { reason: 'x' }), 'NATTER_MESSAGE_DELETED');
    await s.closeSockets();
  });
});
