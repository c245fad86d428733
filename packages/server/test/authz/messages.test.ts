/**
 * Policy table rows about messages, through the real server: sending (REST and realtime), system
 * messages, typing, read marks, reactions, editing and deleting one's own and others' messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectFrameError, quiet } from '../realtime/helpers.js';
import {
  type Cast,
  cast,
  direct,
  expectForbidden,
  expectHidden,
  expectOk,
  group,
  publicChannel,
  support,
  type Who,
} from './helpers.js';

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

const post = (who: Who, id: string, body: Record<string, unknown> = { text: `from ${who}` }) =>
  c.as(who).post(`/v1/channels/${id}/messages`, body);
const messagePath = (channelId: string, messageId: string) => `/v1/channels/${channelId}/messages/${messageId}`;

describe('sending', () => {
  it('[channel.send] members send; in public channels only managers (and admin members); guests only as visitors', async () => {
    const g = await group(c);
    const pub = await publicChannel(c);
    expectOk(await post('bob', g.id));
    expectHidden(await post('cat', g.id));
    expectOk(await post('ann', pub.id));
    expectForbidden(await post('bob', pub.id));
    expectForbidden(await post('cat', pub.id));
    expectOk(await c.backend.post(`/v1/channels/${pub.id}/members`, { members: ['boss', 'gus'] }));
    expectOk(await post('boss', pub.id));
    expectForbidden(await post('gus', pub.id));
    const s = await support(c);
    expectOk(await post('gus', s.id));
    expectOk(await post('ann', s.id));
    const guestInGroup = await c.channel({ type: 'group', members: ['ann', 'vic'] });
    expectOk(await c.as('vic').get(`/v1/channels/${guestInGroup.id}/messages`));
    expectForbidden(await post('vic', guestInGroup.id));
    expectOk(await c.backend.post(`/v1/channels/${g.id}/messages`, { text: 'as bob', userId: 'bob' }));
    // Over realtime, the same rules.
    const [bob, vic] = await Promise.all([c.connect('bob'), c.connect('vic')]);
    expect((await bob.request({ type: 'message.send', channelId: g.id, text: 'ws' })).message.authorId).toBe('bob');
    await expectFrameError(
      bob.request({ type: 'message.send', channelId: pub.id, text: 'ws' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    await expectFrameError(
      vic.request({ type: 'message.send', channelId: guestInGroup.id, text: 'ws' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    await Promise.all([bob.close(), vic.close()]);
  });

  it("[channel.system] system messages are the backend's alone", async () => {
    const g = await group(c);
    expectOk(await c.backend.post(`/v1/channels/${g.id}/messages`, { text: 'joined', system: true }));
    for (const who of ['ann', 'boss'] as const) expectForbidden(await post(who, g.id, { text: 'x', system: true }));
  });

  it('[channel.typing] typing follows sending', async () => {
    const pub = await publicChannel(c);
    const s = await support(c);
    const guestInGroup = await c.channel({ type: 'group', members: ['ann', 'vic'] });
    const [ann, bob, gus, vic] = await Promise.all(['ann', 'bob', 'gus', 'vic'].map((u) => c.connect(u)));
    await ann!.request({ type: 'subscribe', channelId: s.id });
    await gus!.request({ type: 'typing.start', channelId: s.id });
    expect(await ann!.nextEvent('typing.start')).toMatchObject({ channelId: s.id, data: { userId: 'gus' } });
    await ann!.request({ type: 'typing.start', channelId: pub.id });
    await expectFrameError(bob!.request({ type: 'typing.start', channelId: pub.id }), 'NATTER_AUTH_FORBIDDEN');
    await expectFrameError(vic!.request({ type: 'typing.start', channelId: guestInGroup.id }), 'NATTER_AUTH_FORBIDDEN');
    await Promise.all([ann, bob, gus, vic].map((s) => s!.close()));
  });

  it('[channel.markRead] members mark read; others may not', async () => {
    const pub = await publicChannel(c);
    await c.send('ann', pub.id);
    expect((await c.as('bob').post(`/v1/channels/${pub.id}/read`)).body.member.lastReadSeq).toBe(1);
    expectForbidden(await c.as('cat').post(`/v1/channels/${pub.id}/read`));
    const s = await support(c);
    expectOk(await c.as('gus').post(`/v1/channels/${s.id}/read`));
    const gus = await c.connect('gus');
    expect((await gus.request({ type: 'read', channelId: s.id })).member.userId).toBe('gus');
    await gus.close();
  });
});

describe('reactions', () => {
  it('[message.react] members react (plain members of public channels too); guests only as visitors', async () => {
    const pub = await publicChannel(c);
    const m = await c.send('ann', pub.id);
    const react = (who: Who, channelId: string, messageId: string) =>
      c.as(who).put(`${messagePath(channelId, messageId)}/reactions/like`);
    expectOk(await react('bob', pub.id, m.id));
    expectForbidden(await react('cat', pub.id, m.id));
    expectOk(await c.backend.post(`/v1/channels/${pub.id}/members`, { members: ['gus'] }));
    expectForbidden(await react('gus', pub.id, m.id));
    const s = await support(c);
    const q = await c.send('gus', s.id);
    expectOk(await react('gus', s.id, q.id));
    expectOk(await c.backend.put(`${messagePath(s.id, q.id)}/reactions/ok?userId=ann`));
    const cat = await c.connect('cat');
    await expectFrameError(
      cat.request({ type: 'reaction.add', channelId: pub.id, messageId: m.id, reaction: 'x' }),
      'NATTER_AUTH_FORBIDDEN',
    );
    await cat.close();
  });
});

describe('editing and deleting', () => {
  it('[message.editOwn] authors edit their messages, guests too', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    expect((await c.as('bob').patch(messagePath(g.id, m.id), { text: 'edited' })).body.message.text).toBe('edited');
    const s = await support(c);
    const q = await c.send('gus', s.id);
    expectOk(await c.as('gus').patch(messagePath(s.id, q.id), { text: 'edited by guest' }));
    const bob = await c.connect('bob');
    expect(
      (await bob.request({ type: 'message.edit', channelId: g.id, messageId: m.id, text: 'ws edit' })).message.text,
    ).toBe('ws edit');
    await bob.close();
  });

  it("[message.editAny] only the backend edits someone else's message", async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    for (const who of ['ann', 'boss', 'mod'] as const)
      expectForbidden(await c.as(who).patch(messagePath(g.id, m.id), { text: who }));
    expect((await c.backend.patch(messagePath(g.id, m.id), { text: 'moderated' })).body.message.text).toBe('moderated');
  });

  it('[message.deleteOwn] authors delete their messages', async () => {
    const g = await group(c);
    const m = await c.send('bob', g.id);
    expect((await c.as('bob').delete(messagePath(g.id, m.id))).body.message.deletedAt).not.toBeNull();
    const s = await support(c);
    const q = await c.send('gus', s.id);
    expectOk(await c.as('gus').delete(messagePath(s.id, q.id)));
  });

  it("[message.deleteAny] managers, tenant moderators (but in direct channels) and admins delete others' messages", async () => {
    const g = await group(c);
    const del = async (who: Who | 'backend', channelId: string) => {
      const m = await c.send('bob', channelId);
      return (who === 'backend' ? c.backend : c.as(who)).delete(messagePath(channelId, m.id));
    };
    for (const who of ['ann', 'mod', 'boss', 'backend'] as const) expectOk(await del(who, g.id), who);
    const byAnn = await c.send('ann', g.id);
    expectForbidden(await c.as('bob').delete(messagePath(g.id, byAnn.id)));
    const dm = await direct(c);
    expectHidden(await del('mod', dm.id));
    const ws = await c.connect('mod');
    const m = await c.send('bob', g.id);
    expect(
      (await ws.request({ type: 'message.delete', channelId: g.id, messageId: m.id })).message.deletedAt,
    ).not.toBeNull();
    await ws.close();
    await quiet(10);
  });
});
