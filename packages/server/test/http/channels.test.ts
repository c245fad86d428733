/**
 * Channels, members and read receipts: `/v1/channels…` except messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChannel,
  createTenant,
  createUsers,
  startTestServer,
  type TestServer,
  type TestTenant,
  type TestUser,
  userClient,
} from '../harness.js';
import { expectError } from './assertions.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer({ NATTER_MAX_CUSTOM_BYTES: '64' });
});
afterAll(() => h.close());

/** A tenant with users ann, bob, cat, dan and boss (a tenant admin), each with a client. */
async function world(): Promise<{ t: TestTenant } & Record<'ann' | 'bob' | 'cat' | 'dan' | 'boss', TestUser>> {
  const t = await createTenant(h);
  await createUsers(t, ['ann', 'bob', 'cat', 'dan', { id: 'boss', role: 'admin' }]);
  const [ann, bob, cat, dan, boss] = await Promise.all(
    ['ann', 'bob', 'cat', 'dan', 'boss'].map((id) => userClient(t, id)),
  );
  return { t, ann: ann!, bob: bob!, cat: cat!, dan: dan!, boss: boss! };
}

const ids = (items: { userId: string }[]) => items.map((m) => m.userId).sort();

describe('POST /v1/channels', () => {
  it('a user creates a group and becomes its owner', async () => {
    const { ann } = await world();
    const res = await ann.api.post('/v1/channels', {
      type: 'group',
      name: 'Team',
      custom: { topic: 'x' },
      members: ['bob', { userId: 'cat', role: 'moderator' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.channel).toMatchObject({
      type: 'group',
      name: 'Team',
      custom: { topic: 'x' },
      createdBy: 'ann',
      lastSeq: 0,
      lastMessageAt: null,
      frozen: false,
      endedAt: null,
      memberCount: 3,
    });
    const members = await ann.api.get(`/v1/channels/${res.body.channel.id}/members`);
    expect(members.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      ['ann', 'owner'],
      ['bob', 'member'],
      ['cat', 'moderator'],
    ]);
  });

  it('the backend creates a channel with a chosen id; the same id again is 409', async () => {
    const { t } = await world();
    const ch = await createChannel(t.api, { id: 'general', type: 'group', members: ['ann'] });
    expect(ch).toMatchObject({ id: 'general', createdBy: null, memberCount: 1 });
    expectError(await t.api.post('/v1/channels', { id: 'general', type: 'group' }), 'NATTER_CHANNEL_EXISTS', 'id');
  });

  it('a direct channel is unique per pair: creating it again answers the same channel with 200', async () => {
    const { t, ann, bob } = await world();
    const first = await ann.api.post('/v1/channels', { type: 'direct', members: ['bob'] });
    expect(first.status).toBe(201);
    expect(first.body.channel.memberCount).toBe(2);
    const again = await ann.api.post('/v1/channels', { type: 'direct', members: ['bob'] });
    expect(again.status).toBe(200);
    expect(again.body.channel.id).toBe(first.body.channel.id);
    const fromBob = await bob.api.post('/v1/channels', { type: 'direct', members: ['ann'] });
    expect(fromBob.status).toBe(200);
    expect(fromBob.body.channel.id).toBe(first.body.channel.id);
    const fromBackend = await t.api.post('/v1/channels', { type: 'direct', members: ['bob', 'ann'] });
    expect(fromBackend.status).toBe(200);
    expect(fromBackend.body.channel.id).toBe(first.body.channel.id);
    const members = await ann.api.get(`/v1/channels/${first.body.channel.id}/members`);
    expect(members.body.items.map((m: { role: string }) => m.role)).toEqual(['member', 'member']);
  });

  it('a direct channel has exactly two distinct members', async () => {
    const { t, ann } = await world();
    expectError(
      await ann.api.post('/v1/channels', { type: 'direct', members: ['bob', 'cat'] }),
      'NATTER_CHANNEL_INVALID_MEMBERS',
      'members',
    );
    expectError(
      await ann.api.post('/v1/channels', { type: 'direct', members: ['ann'] }),
      'NATTER_CHANNEL_INVALID_MEMBERS',
      'members',
    );
    expectError(await ann.api.post('/v1/channels', { type: 'direct' }), 'NATTER_CHANNEL_INVALID_MEMBERS', 'members');
    expectError(
      await t.api.post('/v1/channels', { type: 'direct', members: ['ann'] }),
      'NATTER_CHANNEL_INVALID_MEMBERS',
      'members',
    );
  });

  it('public channels are created by the backend or a tenant admin only', async () => {
    const { t, ann, boss } = await world();
    expectError(await ann.api.post('/v1/channels', { type: 'public', name: 'News' }), 'NATTER_AUTH_FORBIDDEN');
    expect((await boss.api.post('/v1/channels', { type: 'public', name: 'News' })).status).toBe(201);
    expect((await t.api.post('/v1/channels', { type: 'public', name: 'Blog' })).status).toBe(201);
  });

  it('a support channel needs a visitor: a user opening one is the visitor, named members are agents', async () => {
    const { t, ann } = await world();
    const ch = await createChannel(ann.api, { type: 'support', members: ['bob'] });
    const members = await ann.api.get(`/v1/channels/${ch.id}/members`);
    expect(members.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      ['ann', 'visitor'],
      ['bob', 'agent'],
    ]);
    expectError(
      await t.api.post('/v1/channels', { type: 'support', members: ['bob'] }),
      'NATTER_CHANNEL_INVALID_MEMBERS',
      'members',
    );
    expect(
      (await t.api.post('/v1/channels', { type: 'support', members: [{ userId: 'cat', role: 'visitor' }, 'bob'] }))
        .status,
    ).toBe(201);
  });

  it.each([
    ['a missing type', { name: 'x' }, 'body.type'],
    ['an unknown type', { type: 'room' }, 'body.type'],
    ['an unknown field', { type: 'group', topic: 'x' }, 'body.topic'],
    ['a name too long', { type: 'group', name: 'x'.repeat(201) }, 'body.name'],
    ['an id with a space', { type: 'group', id: 'a b' }, 'body.id'],
    ['an unknown member role', { type: 'group', members: [{ userId: 'bob', role: 'king' }] }, 'body.members.0'],
    ['members of the wrong type', { type: 'group', members: 'bob' }, 'body.members'],
    ['custom data over NATTER_MAX_CUSTOM_BYTES', { type: 'group', custom: { blob: 'x'.repeat(100) } }, 'custom'],
    [
      'custom data nested too deep',
      { type: 'group', custom: JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) },
      'custom',
    ],
  ])('refuses %s', async (_what, body, field) => {
    const { t, ann } = await world();
    expectError(await ann.api.post('/v1/channels', body), 'NATTER_REQUEST_INVALID', field);
    expect((await t.api.get('/v1/channels?userId=ann')).body.items).toEqual([]);
  });

  it('refuses members that do not exist, and creates nothing', async () => {
    const { t, ann } = await world();
    expectError(
      await ann.api.post('/v1/channels', { id: 'c1', type: 'group', members: ['bob', 'ghost'] }),
      'NATTER_USER_NOT_FOUND',
      'members',
    );
    expectError(await t.api.get('/v1/channels/c1'), 'NATTER_CHANNEL_NOT_FOUND');
  });
});

describe('GET /v1/channels', () => {
  it("lists the caller's channels with unread counts and the last message; the backend names the user", async () => {
    const { t, ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    await createChannel(t.api, { type: 'group', members: ['cat'] });
    for (const text of ['one', 'two', 'three']) {
      expect((await ann.api.post(`/v1/channels/${ch.id}/messages`, { text })).status).toBe(201);
    }
    const mine = await bob.api.get('/v1/channels');
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({
      channel: { id: ch.id, lastSeq: 3 },
      membership: { userId: 'bob', lastReadSeq: 0 },
      unreadCount: 3,
      lastMessage: { text: 'three', seq: 3 },
    });
    // Your own messages are not unread.
    expect((await ann.api.get('/v1/channels')).body.items[0].unreadCount).toBe(0);
    const viaBackend = await t.api.get('/v1/channels?userId=bob');
    expect(viaBackend.body.items.map((i: { channel: { id: string } }) => i.channel.id)).toEqual([ch.id]);
    expectError(await t.api.get('/v1/channels'), 'NATTER_REQUEST_INVALID', 'userId');
  });

  it('pages with limit and after', async () => {
    const { t, ann } = await world();
    for (let i = 0; i < 3; i++) await createChannel(t.api, { type: 'group', members: ['ann'] });
    const first = await ann.api.get('/v1/channels?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).toEqual(expect.any(String));
    const rest = await ann.api.get(`/v1/channels?limit=2&after=${encodeURIComponent(first.body.next)}`);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.next).toBeNull();
    const seen = [...first.body.items, ...rest.body.items].map((i: { channel: { id: string } }) => i.channel.id);
    expect(new Set(seen).size).toBe(3);
    expectError(await ann.api.get('/v1/channels?limit=201'), 'NATTER_REQUEST_INVALID', 'querystring.limit');
    expectError(await ann.api.get('/v1/channels?type=group'), 'NATTER_REQUEST_INVALID');
  });
});

describe('GET /v1/channels/:channelId', () => {
  it('members read a group; a non-member gets the same 404 as for a missing channel', async () => {
    const { t, ann, bob, cat, boss } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    expect((await bob.api.get(`/v1/channels/${ch.id}`)).body.channel.id).toBe(ch.id);
    expect((await t.api.get(`/v1/channels/${ch.id}`)).status).toBe(200);
    expect((await boss.api.get(`/v1/channels/${ch.id}`)).status).toBe(200);
    expectError(await cat.api.get(`/v1/channels/${ch.id}`), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    expectError(await cat.api.get('/v1/channels/no-such-channel'), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    expectError(await cat.api.get('/v1/channels/bad%20id'), 'NATTER_REQUEST_INVALID', 'params.channelId');
  });

  it('anyone of the tenant reads a public channel', async () => {
    const { t, cat } = await world();
    const ch = await createChannel(t.api, { type: 'public', name: 'News' });
    expect((await cat.api.get(`/v1/channels/${ch.id}`)).status).toBe(200);
    expect((await cat.api.get(`/v1/channels/${ch.id}/messages`)).status).toBe(200);
  });
});

describe('PATCH /v1/channels/:channelId', () => {
  it('managers rename and set custom data; plain members may not; outsiders see 404', async () => {
    const { ann, bob, cat } = await world();
    const ch = await createChannel(ann.api, { type: 'group', name: 'Old', members: ['bob'] });
    const res = await ann.api.patch(`/v1/channels/${ch.id}`, { name: 'New', custom: { colour: 'red' } });
    expect(res.status).toBe(200);
    expect(res.body.channel).toMatchObject({ name: 'New', custom: { colour: 'red' } });
    expect((await ann.api.patch(`/v1/channels/${ch.id}`, { name: null })).body.channel.name).toBeNull();
    expectError(await bob.api.patch(`/v1/channels/${ch.id}`, { name: 'Mine' }), 'NATTER_AUTH_FORBIDDEN');
    expectError(await cat.api.patch(`/v1/channels/${ch.id}`, { name: 'Mine' }), 'NATTER_CHANNEL_NOT_FOUND');
    expect((await ann.api.get(`/v1/channels/${ch.id}`)).body.channel.name).toBeNull();
  });

  it('freezing stops sends with 409 NATTER_CHANNEL_FROZEN until unfrozen', async () => {
    const { ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    expectError(await bob.api.patch(`/v1/channels/${ch.id}`, { frozen: true }), 'NATTER_AUTH_FORBIDDEN');
    expect((await ann.api.patch(`/v1/channels/${ch.id}`, { frozen: true })).body.channel.frozen).toBe(true);
    expectError(await bob.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hi' }), 'NATTER_CHANNEL_FROZEN');
    expect((await ann.api.patch(`/v1/channels/${ch.id}`, { frozen: false })).body.channel.frozen).toBe(false);
    expect((await bob.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hi' })).status).toBe(201);
  });

  it.each([
    ['an unknown field', { type: 'public' }, 'body.type'],
    ['frozen of the wrong type', { frozen: 'yes' }, 'body.frozen'],
    ['custom data over the limit', { custom: { blob: 'x'.repeat(100) } }, 'custom'],
    ['a name too long', { name: 'x'.repeat(201) }, 'body.name'],
  ])('refuses %s', async (_what, body, field) => {
    const { t } = await world();
    const ch = await createChannel(t.api, { type: 'group' });
    expectError(await t.api.patch(`/v1/channels/${ch.id}`, body), 'NATTER_REQUEST_INVALID', field);
    expectError(await t.api.patch('/v1/channels/nope', { name: 'x' }), 'NATTER_CHANNEL_NOT_FOUND');
  });
});

describe('DELETE /v1/channels/:channelId', () => {
  it('the owner deletes a channel with its messages; members may not', async () => {
    const { t, ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hi' });
    expectError(await bob.api.delete(`/v1/channels/${ch.id}`), 'NATTER_AUTH_FORBIDDEN');
    expect((await ann.api.delete(`/v1/channels/${ch.id}`)).status).toBe(204);
    expectError(await t.api.get(`/v1/channels/${ch.id}`), 'NATTER_CHANNEL_NOT_FOUND');
    expect(await h.server.store.tenant(t.tenantId).listMessages(ch.id, { limit: 10, includeReplies: true })).toEqual(
      [],
    );
    expect((await bob.api.get('/v1/channels')).body.items).toEqual([]);
    expectError(await ann.api.delete(`/v1/channels/${ch.id}`), 'NATTER_CHANNEL_NOT_FOUND');
  });

  it('the backend and tenant admins delete any channel', async () => {
    const { t, ann, boss } = await world();
    const one = await createChannel(ann.api, { type: 'group' });
    const two = await createChannel(ann.api, { type: 'group' });
    expect((await t.api.delete(`/v1/channels/${one.id}`)).status).toBe(204);
    expect((await boss.api.delete(`/v1/channels/${two.id}`)).status).toBe(204);
  });
});

describe('POST /v1/channels/:channelId/end', () => {
  it('ends a support conversation: further sends are 409 NATTER_CHANNEL_ENDED; ending again is a no-op', async () => {
    const { t, ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'support', members: ['bob'] });
    expect((await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'help' })).status).toBe(201);
    const res = await bob.api.post(`/v1/channels/${ch.id}/end`);
    expect(res.status).toBe(200);
    expect(res.body.channel.endedAt).toEqual(expect.any(String));
    expectError(await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hello?' }), 'NATTER_CHANNEL_ENDED');
    expectError(
      await t.api.post(`/v1/channels/${ch.id}/messages`, { text: 'closed', system: true }),
      'NATTER_CHANNEL_ENDED',
    );
    const again = await ann.api.post(`/v1/channels/${ch.id}/end`);
    expect(again.status).toBe(200);
    expect(again.body.channel.endedAt).toBe(res.body.channel.endedAt);
    expect((await ann.api.get(`/v1/channels/${ch.id}/messages`)).body.messages).toHaveLength(1);
  });

  it('only support channels end; outsiders see 404', async () => {
    const { t, ann, cat } = await world();
    const group = await createChannel(ann.api, { type: 'group' });
    expectError(await ann.api.post(`/v1/channels/${group.id}/end`), 'NATTER_AUTH_FORBIDDEN');
    expectError(await t.api.post(`/v1/channels/${group.id}/end`), 'NATTER_REQUEST_INVALID', 'channelId');
    const support = await createChannel(ann.api, { type: 'support', members: ['bob'] });
    expectError(await cat.api.post(`/v1/channels/${support.id}/end`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await t.api.post('/v1/channels/nope/end'), 'NATTER_CHANNEL_NOT_FOUND');
  });
});

describe('members', () => {
  it('GET members pages; outsiders see 404', async () => {
    const { ann, cat } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob', 'dan'] });
    const first = await ann.api.get(`/v1/channels/${ch.id}/members?limit=2`);
    expect(first.status).toBe(200);
    expect(ids(first.body.items)).toEqual(['ann', 'bob']);
    const rest = await ann.api.get(
      `/v1/channels/${ch.id}/members?limit=2&after=${encodeURIComponent(first.body.next)}`,
    );
    expect(rest.body).toEqual({
      items: [expect.objectContaining({ userId: 'dan', role: 'member', lastReadSeq: 0 })],
      next: null,
    });
    expectError(await cat.api.get(`/v1/channels/${ch.id}/members`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(
      await ann.api.get(`/v1/channels/${ch.id}/members?limit=0`),
      'NATTER_REQUEST_INVALID',
      'querystring.limit',
    );
  });

  it('managers add members (as ids or with a role); plain members may not; unknown users are 404', async () => {
    const { t, ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    const added = await ann.api.post(`/v1/channels/${ch.id}/members`, {
      members: ['cat', { userId: 'dan', role: 'moderator' }],
    });
    expect(added.status).toBe(200);
    expect(added.body.added.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      ['cat', 'member'],
      ['dan', 'moderator'],
    ]);
    // Adding an existing member again adds nothing.
    expect((await ann.api.post(`/v1/channels/${ch.id}/members`, { members: ['cat'] })).body.added).toEqual([]);
    expectError(await bob.api.post(`/v1/channels/${ch.id}/members`, { members: ['boss'] }), 'NATTER_AUTH_FORBIDDEN');
    expectError(
      await ann.api.post(`/v1/channels/${ch.id}/members`, { members: ['ghost'] }),
      'NATTER_USER_NOT_FOUND',
      'members',
    );
    expectError(
      await ann.api.post(`/v1/channels/${ch.id}/members`, { members: [] }),
      'NATTER_REQUEST_INVALID',
      'body.members',
    );
    expectError(
      await ann.api.post(`/v1/channels/${ch.id}/members`, { members: [{ id: 'cat' }] }),
      'NATTER_REQUEST_INVALID',
      'body.members.0',
    );
    expectError(await ann.api.post(`/v1/channels/${ch.id}/members`, { users: ['cat'] }), 'NATTER_REQUEST_INVALID');
    expect((await t.api.get(`/v1/channels/${ch.id}`)).body.channel.memberCount).toBe(4);
  });

  it('anyone joins a public channel by adding themselves, as a plain member', async () => {
    const { t, cat } = await world();
    const ch = await createChannel(t.api, { type: 'public', name: 'News' });
    const res = await cat.api.post(`/v1/channels/${ch.id}/members`, { members: [{ userId: 'cat', role: 'owner' }] });
    expect(res.status).toBe(200);
    expect(res.body.added).toEqual([expect.objectContaining({ userId: 'cat', role: 'member' })]);
    expect(
      (await cat.api.get('/v1/channels')).body.items.map((i: { channel: { id: string } }) => i.channel.id),
    ).toEqual([ch.id]);
    // Public channels are broadcast: a plain member reads but does not post.
    expectError(await cat.api.post(`/v1/channels/${ch.id}/messages`, { text: 'hi' }), 'NATTER_AUTH_FORBIDDEN');
    expectError(await cat.api.post(`/v1/channels/${ch.id}/members`, { members: ['dan'] }), 'NATTER_AUTH_FORBIDDEN');
  });

  it('nobody joins a group by adding themselves: it stays hidden', async () => {
    const { ann, cat } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    expectError(await cat.api.post(`/v1/channels/${ch.id}/members`, { members: ['cat'] }), 'NATTER_CHANNEL_NOT_FOUND');
    expect(ids((await ann.api.get(`/v1/channels/${ch.id}/members`)).body.items)).toEqual(['ann', 'bob']);
  });

  it('direct channels keep their two members', async () => {
    const { t, ann } = await world();
    const ch = await createChannel(ann.api, { type: 'direct', members: ['bob'] });
    expectError(
      await t.api.post(`/v1/channels/${ch.id}/members`, { members: ['cat'] }),
      'NATTER_CHANNEL_INVALID_MEMBERS',
      'members',
    );
    expectError(await t.api.delete(`/v1/channels/${ch.id}/members/bob`), 'NATTER_CHANNEL_INVALID_MEMBERS', 'userId');
    expectError(await ann.api.delete(`/v1/channels/${ch.id}/members/ann`), 'NATTER_CHANNEL_INVALID_MEMBERS', 'userId');
  });

  it('DELETE members/:userId: leaving, removal by a manager, refusal for plain members', async () => {
    const { t, ann, bob, cat } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob', 'cat', 'dan'] });
    expect((await bob.api.delete(`/v1/channels/${ch.id}/members/bob`)).status).toBe(204);
    expectError(await bob.api.get(`/v1/channels/${ch.id}`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await cat.api.delete(`/v1/channels/${ch.id}/members/dan`), 'NATTER_AUTH_FORBIDDEN');
    expect((await ann.api.delete(`/v1/channels/${ch.id}/members/dan`)).status).toBe(204);
    expect((await t.api.delete(`/v1/channels/${ch.id}/members/cat`)).status).toBe(204);
    expectError(await ann.api.delete(`/v1/channels/${ch.id}/members/cat`), 'NATTER_MEMBER_NOT_FOUND', 'userId');
    expectError(await t.api.delete(`/v1/channels/${ch.id}/members/ghost`), 'NATTER_MEMBER_NOT_FOUND', 'userId');
    expectError(await bob.api.delete(`/v1/channels/${ch.id}/members/bob`), 'NATTER_CHANNEL_NOT_FOUND');
    expect(ids((await t.api.get(`/v1/channels/${ch.id}/members`)).body.items)).toEqual(['ann']);
    expect((await t.api.get(`/v1/channels/${ch.id}`)).body.channel.memberCount).toBe(1);
  });

  it('leaving a public channel', async () => {
    const { t, cat } = await world();
    const ch = await createChannel(t.api, { type: 'public' });
    await cat.api.post(`/v1/channels/${ch.id}/members`, { members: ['cat'] });
    expect((await cat.api.delete(`/v1/channels/${ch.id}/members/cat`)).status).toBe(204);
    expect((await cat.api.get('/v1/channels')).body.items).toEqual([]);
    expectError(await cat.api.delete(`/v1/channels/${ch.id}/members/cat`), 'NATTER_AUTH_FORBIDDEN');
  });
});

describe('POST /v1/channels/:channelId/read', () => {
  it('marks read up to the newest message with no body, and unread counts follow', async () => {
    const { ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    for (const text of ['a', 'b', 'c']) await ann.api.post(`/v1/channels/${ch.id}/messages`, { text });
    const res = await bob.api.post(`/v1/channels/${ch.id}/read`);
    expect(res.status).toBe(200);
    expect(res.body.member).toMatchObject({
      channelId: ch.id,
      userId: 'bob',
      lastReadSeq: 3,
      lastReadAt: expect.any(String),
    });
    expect((await bob.api.get('/v1/channels')).body.items[0].unreadCount).toBe(0);
    await ann.api.post(`/v1/channels/${ch.id}/messages`, { text: 'd' });
    expect((await bob.api.get('/v1/channels')).body.items[0].unreadCount).toBe(1);
  });

  it('marks read up to a seq, never lowers the mark, and caps it at the newest message', async () => {
    const { ann, bob } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    for (const text of ['a', 'b', 'c', 'd']) await ann.api.post(`/v1/channels/${ch.id}/messages`, { text });
    expect((await bob.api.post(`/v1/channels/${ch.id}/read`, { seq: 2 })).body.member.lastReadSeq).toBe(2);
    expect((await bob.api.get('/v1/channels')).body.items[0].unreadCount).toBe(2);
    expect((await bob.api.post(`/v1/channels/${ch.id}/read`, { seq: 1 })).body.member.lastReadSeq).toBe(2);
    expect((await bob.api.post(`/v1/channels/${ch.id}/read`, { seq: 99 })).body.member.lastReadSeq).toBe(4);
    expect((await bob.api.post(`/v1/channels/${ch.id}/read`, {})).body.member.lastReadSeq).toBe(4);
  });

  it('refuses bad input, outsiders, and callers who are not members', async () => {
    const { t, ann, cat } = await world();
    const ch = await createChannel(ann.api, { type: 'group', members: ['bob'] });
    expectError(await ann.api.post(`/v1/channels/${ch.id}/read`, { seq: -1 }), 'NATTER_REQUEST_INVALID', 'body.seq');
    expectError(await ann.api.post(`/v1/channels/${ch.id}/read`, { seq: '1' }), 'NATTER_REQUEST_INVALID', 'body.seq');
    expectError(await ann.api.post(`/v1/channels/${ch.id}/read`, { upTo: 1 }), 'NATTER_REQUEST_INVALID', 'body.upTo');
    expectError(await cat.api.post(`/v1/channels/${ch.id}/read`), 'NATTER_CHANNEL_NOT_FOUND');
    // The backend is nobody's membership.
    expectError(await t.api.post(`/v1/channels/${ch.id}/read`), 'NATTER_MEMBER_NOT_FOUND');
    const pub = await createChannel(t.api, { type: 'public' });
    expectError(await cat.api.post(`/v1/channels/${pub.id}/read`), 'NATTER_AUTH_FORBIDDEN');
  });
});
