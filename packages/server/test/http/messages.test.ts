/**
 * Messages: send (idempotent), history, get, edit, delete, threads and reactions.
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

const MAX_TEXT = 20;
let h: TestServer;
beforeAll(async () => {
  h = await startTestServer({ NATTER_MAX_MESSAGE_LENGTH: String(MAX_TEXT), NATTER_MAX_CUSTOM_BYTES: '64' });
});
afterAll(() => h.close());

interface Room {
  t: TestTenant;
  ann: TestUser;
  bob: TestUser;
  cat: TestUser;
  /** A group of ann (owner) and bob; cat is outside. */
  channelId: string;
  path: string;
}

async function room(): Promise<Room> {
  const t = await createTenant(h);
  await createUsers(t, ['ann', 'bob', 'cat']);
  const [ann, bob, cat] = await Promise.all(['ann', 'bob', 'cat'].map((id) => userClient(t, id)));
  const ch = await createChannel(ann!.api, { type: 'group', members: ['bob'] });
  return { t, ann: ann!, bob: bob!, cat: cat!, channelId: ch.id, path: `/v1/channels/${ch.id}/messages` };
}

async function send(user: TestUser, path: string, body: Record<string, unknown>) {
  const res = await user.api.post(path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.message;
}

describe('POST /v1/channels/:channelId/messages', () => {
  it('stores a message with the next seq, gap-free, and bumps the channel', async () => {
    const { ann, bob, path, channelId } = await room();
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push((await send(i % 2 ? bob : ann, path, { text: `m${i}` })).seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    const first = await ann.api.get(`${path}?after=0&limit=1`);
    expect(first.body.messages[0]).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      channelId,
      seq: 1,
      clientMsgId: null,
      authorId: 'ann',
      type: 'regular',
      text: 'm0',
      attachments: [],
      custom: {},
      encrypted: null,
      parentId: null,
      replyCount: 0,
      reactionCounts: {},
      editedAt: null,
      deletedAt: null,
    });
    const channel = await ann.api.get(`/v1/channels/${channelId}`);
    expect(channel.body.channel.lastSeq).toBe(5);
    expect(channel.body.channel.lastMessageAt).toEqual(expect.any(String));
  });

  it('concurrent sends get distinct, gap-free seqs', async () => {
    const { ann, bob, path } = await room();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? ann : bob).api.post(path, { text: `c${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(results.map((r) => r.body.message.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('is idempotent by clientMsgId: a retry answers the stored message with 200 and stores nothing new', async () => {
    const { ann, bob, path } = await room();
    const first = await ann.api.post(path, { text: 'once', clientMsgId: 'c-1' });
    expect(first.status).toBe(201);
    const retry = await ann.api.post(path, { text: 'once', clientMsgId: 'c-1' });
    expect(retry.status).toBe(200);
    expect(retry.body.message).toEqual(first.body.message);
    // The same client id from another author is another message.
    const other = await bob.api.post(path, { text: 'once', clientMsgId: 'c-1' });
    expect(other.status).toBe(201);
    const history = await ann.api.get(path);
    expect(history.body.messages.map((m: { seq: number; authorId: string }) => [m.seq, m.authorId])).toEqual([
      [1, 'ann'],
      [2, 'bob'],
    ]);
  });

  it('the backend sends as a member (userId) or a system message', async () => {
    const { t, path } = await room();
    const asBob = await t.api.post(path, { text: 'from backend', userId: 'bob' });
    expect(asBob.status).toBe(201);
    expect(asBob.body.message).toMatchObject({ authorId: 'bob', type: 'regular' });
    const system = await t.api.post(path, { text: 'ann joined', system: true });
    expect(system.status).toBe(201);
    expect(system.body.message).toMatchObject({ authorId: null, type: 'system' });
    expectError(await t.api.post(path, { text: 'who?' }), 'NATTER_REQUEST_INVALID', 'userId');
    expectError(await t.api.post(path, { text: 'x', userId: 'cat' }), 'NATTER_MEMBER_NOT_FOUND', 'userId');
    expectError(await t.api.post(path, { text: 'x', userId: 'ghost' }), 'NATTER_MEMBER_NOT_FOUND', 'userId');
  });

  it('users may not send system messages or name another author', async () => {
    const { ann, path } = await room();
    expectError(await ann.api.post(path, { text: 'x', system: true }), 'NATTER_AUTH_FORBIDDEN');
    expectError(await ann.api.post(path, { text: 'x', userId: 'bob' }), 'NATTER_REQUEST_INVALID', 'userId');
    expect((await ann.api.get(path)).body.messages).toEqual([]);
  });

  it('takes attachments or an encrypted envelope instead of text', async () => {
    const { ann, path } = await room();
    const att = await send(ann, path, {
      attachments: [{ type: 'image', url: 'https://img.test/a.png', width: 10, height: 10 }],
    });
    expect(att).toMatchObject({
      text: null,
      attachments: [{ type: 'image', url: 'https://img.test/a.png', width: 10, height: 10 }],
    });
    const enc = await send(ann, path, { encrypted: { alg: 'x25519', ciphertext: 'AAAA', nonce: 'n' } });
    expect(enc.encrypted).toEqual({ alg: 'x25519', ciphertext: 'AAAA', nonce: 'n' });
    const custom = await send(ann, path, { text: 'with data', custom: { mood: 'happy' } });
    expect(custom.custom).toEqual({ mood: 'happy' });
  });

  it(`counts text in characters: ${MAX_TEXT} emoji fit, ${MAX_TEXT + 1} characters do not`, async () => {
    const { ann, path } = await room();
    expect((await ann.api.post(path, { text: '😀'.repeat(MAX_TEXT) })).status).toBe(201);
    expectError(await ann.api.post(path, { text: 'x'.repeat(MAX_TEXT + 1) }), 'NATTER_REQUEST_INVALID', 'text');
    expect((await ann.api.get(path)).body.messages).toHaveLength(1);
  });

  it.each([
    ['an empty body', {}, 'text'],
    ['blank text', { text: '   ' }, 'text'],
    ['text of the wrong type', { text: 42 }, 'body.text'],
    ['an operator object as text', { text: { $ne: null } }, 'body.text'],
    ['an unknown field', { text: 'x', html: '<b>x</b>' }, 'body.html'],
    ['custom data over NATTER_MAX_CUSTOM_BYTES', { text: 'x', custom: { blob: 'x'.repeat(100) } }, 'custom'],
    [
      'custom data nested too deep',
      { text: 'x', custom: JSON.parse(`${'{"a":'.repeat(30)}1${'}'.repeat(30)}`) },
      'custom',
    ],
    ['custom data that is not an object', { text: 'x', custom: 'x' }, 'body.custom'],
    ['an attachment without url', { attachments: [{ type: 'image' }] }, 'body.attachments.0.url'],
    [
      'an attachment url that is not a URL',
      { attachments: [{ type: 'image', url: 'nope' }] },
      'body.attachments.0.url',
    ],
    [
      'an unknown attachment field',
      { attachments: [{ type: 'image', url: 'https://a.test/x', exif: {} }] },
      'body.attachments.0.exif',
    ],
    [
      'more than 10 attachments',
      { attachments: Array(11).fill({ type: 'file', url: 'https://a.test/x' }) },
      'body.attachments',
    ],
    ['encrypted together with text', { text: 'plain', encrypted: { alg: 'a', ciphertext: 'c' } }, 'encrypted'],
    ['an envelope without ciphertext', { encrypted: { alg: 'a' } }, 'body.encrypted.ciphertext'],
    ['an empty clientMsgId', { text: 'x', clientMsgId: '' }, 'body.clientMsgId'],
    ['a parentId with a space', { text: 'x', parentId: 'a b' }, 'body.parentId'],
    ['system of the wrong type', { text: 'x', system: 'yes' }, 'body.system'],
  ])('refuses %s and stores nothing', async (_what, body, field) => {
    const { ann, path } = await room();
    expectError(await ann.api.post(path, body), 'NATTER_REQUEST_INVALID', field);
    expect((await ann.api.get(path)).body.messages).toEqual([]);
  });

  it('outsiders of a group get 404 and nothing is stored; unknown channels are 404', async () => {
    const { t, cat, path, channelId } = await room();
    expectError(await cat.api.post(path, { text: 'let me in' }), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    expectError(
      await cat.api.post('/v1/channels/nope/messages', { text: 'x' }),
      'NATTER_CHANNEL_NOT_FOUND',
      'channelId',
    );
    expect((await t.api.get(`/v1/channels/${channelId}`)).body.channel.lastSeq).toBe(0);
  });
});

describe('GET /v1/channels/:channelId/messages (history)', () => {
  it('pages by seq: newest page by default, before, after, limit; always ascending', async () => {
    const { ann, path } = await room();
    for (let i = 1; i <= 7; i++) await send(ann, path, { text: `m${i}` });
    const seqs = async (query: string) =>
      (await ann.api.get(`${path}${query}`)).body.messages.map((m: { seq: number }) => m.seq);
    expect(await seqs('')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await seqs('?limit=3')).toEqual([5, 6, 7]);
    expect(await seqs('?before=5&limit=2')).toEqual([3, 4]);
    expect(await seqs('?before=2')).toEqual([1]);
    expect(await seqs('?after=5')).toEqual([6, 7]);
    expect(await seqs('?after=0&limit=3')).toEqual([1, 2, 3]);
    expect(await seqs('?after=7')).toEqual([]);
    // Walking backwards with `before` visits every message once.
    const walked: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page: number[] = await seqs(`?limit=3${before === undefined ? '' : `&before=${before}`}`);
      if (page.length === 0) break;
      walked.unshift(...page);
      before = page[0];
    }
    expect(walked).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it.each([
    ['before=1&after=1', 'before'],
    ['limit=0', 'querystring.limit'],
    ['limit=201', 'querystring.limit'],
    ['after=-1', 'querystring.after'],
    ['before=x', 'querystring.before'],
    ['since=1', 'querystring.since'],
  ])('refuses ?%s', async (query, field) => {
    const { ann, path } = await room();
    expectError(await ann.api.get(`${path}?${query}`), 'NATTER_REQUEST_INVALID', field);
  });

  it('outsiders of a group get 404', async () => {
    const { cat, path } = await room();
    expectError(await cat.api.get(path), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
  });
});

describe('GET /v1/channels/:channelId/messages/:messageId', () => {
  it('gets a message of the channel; other ids are 404', async () => {
    const { t, ann, cat, path } = await room();
    const m = await send(ann, path, { text: 'hello' });
    const res = await ann.api.get(`${path}/${m.id}`);
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual(m);
    expectError(await ann.api.get(`${path}/msg_nope`), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
    expectError(await cat.api.get(`${path}/${m.id}`), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    // The message exists but in another channel: not found here.
    const other = await createChannel(t.api, { type: 'group', members: ['ann'] });
    expectError(
      await ann.api.get(`/v1/channels/${other.id}/messages/${m.id}`),
      'NATTER_MESSAGE_NOT_FOUND',
      'messageId',
    );
  });
});

describe('PATCH /v1/channels/:channelId/messages/:messageId', () => {
  it('the author edits; editedAt is set and the seq kept', async () => {
    const { ann, bob, path } = await room();
    const m = await send(ann, path, { text: 'helo', custom: { v: 1 } });
    const res = await ann.api.patch(`${path}/${m.id}`, { text: 'hello' });
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({
      id: m.id,
      seq: m.seq,
      text: 'hello',
      custom: { v: 1 },
      editedAt: expect.any(String),
    });
    expect((await bob.api.get(`${path}/${m.id}`)).body.message.text).toBe('hello');
  });

  it("editing someone else's message is 403, also for the channel owner; the backend may", async () => {
    const { t, ann, bob, path } = await room();
    const m = await send(bob, path, { text: 'mine' });
    expectError(await ann.api.patch(`${path}/${m.id}`, { text: 'yours' }), 'NATTER_AUTH_FORBIDDEN');
    expect((await bob.api.get(`${path}/${m.id}`)).body.message.text).toBe('mine');
    expect((await t.api.patch(`${path}/${m.id}`, { text: 'moderated' })).body.message.text).toBe('moderated');
  });

  it('refuses bad edits, deleted messages, frozen channels and outsiders', async () => {
    const { ann, cat, path, channelId } = await room();
    const m = await send(ann, path, { text: 'x' });
    expectError(
      await ann.api.patch(`${path}/${m.id}`, { text: 'y'.repeat(MAX_TEXT + 1) }),
      'NATTER_REQUEST_INVALID',
      'text',
    );
    expectError(await ann.api.patch(`${path}/${m.id}`, { seq: 9 }), 'NATTER_REQUEST_INVALID', 'body.seq');
    expectError(
      await ann.api.patch(`${path}/${m.id}`, { custom: { blob: 'x'.repeat(100) } }),
      'NATTER_REQUEST_INVALID',
      'custom',
    );
    expectError(await ann.api.patch(`${path}/msg_nope`, { text: 'y' }), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
    expectError(await cat.api.patch(`${path}/${m.id}`, { text: 'y' }), 'NATTER_CHANNEL_NOT_FOUND');
    await ann.api.patch(`/v1/channels/${channelId}`, { frozen: true });
    expectError(await ann.api.patch(`${path}/${m.id}`, { text: 'y' }), 'NATTER_CHANNEL_FROZEN');
    await ann.api.patch(`/v1/channels/${channelId}`, { frozen: false });
    expect((await ann.api.delete(`${path}/${m.id}`)).status).toBe(200);
    expectError(await ann.api.patch(`${path}/${m.id}`, { text: 'y' }), 'NATTER_MESSAGE_DELETED');
    expect((await ann.api.get(`${path}/${m.id}`)).body.message.text).toBeNull();
  });
});

describe('DELETE /v1/channels/:channelId/messages/:messageId', () => {
  it('leaves a tombstone that keeps its seq, with the body cleared', async () => {
    const { ann, bob, path } = await room();
    await send(ann, path, { text: 'one' });
    const m = await send(ann, path, {
      text: 'two',
      custom: { k: 1 },
      attachments: [{ type: 'file', url: 'https://a.test/f' }],
    });
    await send(ann, path, { text: 'three' });
    const res = await ann.api.delete(`${path}/${m.id}`);
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({
      id: m.id,
      seq: 2,
      type: 'deleted',
      text: null,
      attachments: [],
      custom: {},
      encrypted: null,
      deletedAt: expect.any(String),
    });
    const history = await bob.api.get(path);
    expect(history.body.messages.map((x: { seq: number; type: string }) => [x.seq, x.type])).toEqual([
      [1, 'regular'],
      [2, 'deleted'],
      [3, 'regular'],
    ]);
    // Deleting again answers the same tombstone.
    const again = await ann.api.delete(`${path}/${m.id}`);
    expect(again.status).toBe(200);
    expect(again.body.message.deletedAt).toBe(res.body.message.deletedAt);
  });

  it("members may not delete others' messages; channel managers and the backend may", async () => {
    const { t, ann, bob, cat, path } = await room();
    const byAnn = await send(ann, path, { text: 'a' });
    const byBob = await send(bob, path, { text: 'b' });
    const byBob2 = await send(bob, path, { text: 'c' });
    expectError(await bob.api.delete(`${path}/${byAnn.id}`), 'NATTER_AUTH_FORBIDDEN');
    expectError(await cat.api.delete(`${path}/${byAnn.id}`), 'NATTER_CHANNEL_NOT_FOUND');
    expect((await ann.api.get(`${path}/${byAnn.id}`)).body.message.deletedAt).toBeNull();
    expect((await ann.api.delete(`${path}/${byBob.id}`)).status).toBe(200);
    expect((await t.api.delete(`${path}/${byBob2.id}`)).status).toBe(200);
    expectError(await ann.api.delete(`${path}/msg_nope`), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
  });
});

describe('threads', () => {
  it('replies count on the parent, stay out of channel history, and list on /replies', async () => {
    const { ann, bob, path } = await room();
    const parent = await send(ann, path, { text: 'question' });
    const r1 = await send(bob, path, { text: 'answer 1', parentId: parent.id });
    const r2 = await send(ann, path, { text: 'answer 2', parentId: parent.id });
    const r3 = await send(bob, path, { text: 'answer 3', parentId: parent.id });
    expect(r1).toMatchObject({ parentId: parent.id, seq: 2 });
    expect((await ann.api.get(`${path}/${parent.id}`)).body.message.replyCount).toBe(3);
    const top = await ann.api.get(path);
    expect(top.body.messages.map((m: { id: string }) => m.id)).toEqual([parent.id]);

    const replies = await ann.api.get(`${path}/${parent.id}/replies`);
    expect(replies.status).toBe(200);
    expect(replies.body.messages.map((m: { id: string }) => m.id)).toEqual([r1.id, r2.id, r3.id]);
    const after = await ann.api.get(`${path}/${parent.id}/replies?after=${r1.seq}&limit=1`);
    expect(after.body.messages.map((m: { id: string }) => m.id)).toEqual([r2.id]);
    const before = await ann.api.get(`${path}/${parent.id}/replies?before=${r3.seq}`);
    expect(before.body.messages.map((m: { id: string }) => m.id)).toEqual([r1.id, r2.id]);
  });

  it('refuses replies to replies, parents of other channels and unknown parents', async () => {
    const { t, ann, cat, path } = await room();
    const parent = await send(ann, path, { text: 'q' });
    const reply = await send(ann, path, { text: 'a', parentId: parent.id });
    expectError(await ann.api.post(path, { text: 'deeper', parentId: reply.id }), 'NATTER_REQUEST_INVALID', 'parentId');
    expectError(await ann.api.post(path, { text: 'x', parentId: 'msg_nope' }), 'NATTER_MESSAGE_NOT_FOUND', 'parentId');
    const other = await createChannel(t.api, { type: 'group', members: ['ann'] });
    const elsewhere = await send(ann, `/v1/channels/${other.id}/messages`, { text: 'elsewhere' });
    expectError(
      await ann.api.post(path, { text: 'x', parentId: elsewhere.id }),
      'NATTER_MESSAGE_NOT_FOUND',
      'parentId',
    );
    expect((await ann.api.get(`${path}/${parent.id}`)).body.message.replyCount).toBe(1);
    expectError(await ann.api.get(`${path}/msg_nope/replies`), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
    expectError(await ann.api.get(`${path}/${elsewhere.id}/replies`), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
    expectError(await cat.api.get(`${path}/${parent.id}/replies`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(
      await ann.api.get(`${path}/${parent.id}/replies?limit=0`),
      'NATTER_REQUEST_INVALID',
      'querystring.limit',
    );
  });
});

describe('reactions', () => {
  it('PUT is idempotent per user and type; counts add up across users; DELETE removes', async () => {
    const { ann, bob, path } = await room();
    const m = await send(ann, path, { text: 'react to me' });
    const r = `${path}/${m.id}/reactions`;
    const first = await ann.api.put(`${r}/like`);
    expect(first.status).toBe(200);
    expect(first.body.message.reactionCounts).toEqual({ like: 1 });
    expect((await ann.api.put(`${r}/like`)).body.message.reactionCounts).toEqual({ like: 1 });
    expect((await bob.api.put(`${r}/like`)).body.message.reactionCounts).toEqual({ like: 2 });
    expect((await bob.api.put(`${r}/${encodeURIComponent('🎉')}`)).body.message.reactionCounts).toEqual({
      like: 2,
      '🎉': 1,
    });
    expect((await ann.api.delete(`${r}/like`)).body.message.reactionCounts).toEqual({ like: 1, '🎉': 1 });
    const again = await ann.api.delete(`${r}/like`);
    expect(again.status).toBe(200);
    expect(again.body.message.reactionCounts).toEqual({ like: 1, '🎉': 1 });
    expect((await ann.api.get(`${path}/${m.id}`)).body.message.reactionCounts).toEqual({ like: 1, '🎉': 1 });
  });

  it('the backend reacts for a member named with ?userId=', async () => {
    const { t, ann, path } = await room();
    const m = await send(ann, path, { text: 'x' });
    const r = `${path}/${m.id}/reactions/like`;
    expectError(await t.api.put(r), 'NATTER_REQUEST_INVALID', 'userId');
    expect((await t.api.put(`${r}?userId=bob`)).body.message.reactionCounts).toEqual({ like: 1 });
    expect((await t.api.put(`${r}?userId=bob`)).body.message.reactionCounts).toEqual({ like: 1 });
    expect((await t.api.delete(`${r}?userId=bob`)).body.message.reactionCounts).toEqual({});
  });

  it('the backend cannot react for a user who is not a member, or does not exist', async () => {
    const { t, ann, path } = await room();
    const m = await send(ann, path, { text: 'x' });
    const r = `${path}/${m.id}/reactions/like`;
    expectError(await t.api.put(`${r}?userId=cat`), 'NATTER_MEMBER_NOT_FOUND', 'userId');
    expectError(await t.api.put(`${r}?userId=ghost`), 'NATTER_MEMBER_NOT_FOUND', 'userId');
    expect((await ann.api.get(`${path}/${m.id}`)).body.message.reactionCounts).toEqual({});
  });

  it('a user cannot react in the name of someone else', async () => {
    const { ann, path } = await room();
    const m = await send(ann, path, { text: 'x' });
    expectError(await ann.api.put(`${path}/${m.id}/reactions/like?userId=bob`), 'NATTER_REQUEST_INVALID', 'userId');
    expect((await ann.api.get(`${path}/${m.id}`)).body.message.reactionCounts).toEqual({});
  });

  it('refuses outsiders, non-members of public channels, deleted and unknown messages, bad types', async () => {
    const { t, ann, cat, path } = await room();
    const m = await send(ann, path, { text: 'x' });
    const r = `${path}/${m.id}/reactions`;
    expectError(await cat.api.put(`${r}/like`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await ann.api.put(`${path}/msg_nope/reactions/like`), 'NATTER_MESSAGE_NOT_FOUND', 'messageId');
    expectError(await ann.api.put(`${r}/${encodeURIComponent('two words')}`), 'NATTER_REQUEST_INVALID', 'params.type');
    expectError(await ann.api.put(`${r}/${'x'.repeat(65)}`), 'NATTER_REQUEST_INVALID', 'params.type');
    expectError(await ann.api.put(`${r}/like?as=bob`), 'NATTER_REQUEST_INVALID');
    await ann.api.delete(`${path}/${m.id}`);
    expectError(await ann.api.put(`${r}/like`), 'NATTER_MESSAGE_DELETED');
    expectError(await ann.api.delete(`${r}/like`), 'NATTER_MESSAGE_DELETED');

    const pub = await createChannel(t.api, { type: 'public' });
    const news = await t.api.post(`/v1/channels/${pub.id}/messages`, { text: 'news', system: true });
    expectError(
      await cat.api.put(`/v1/channels/${pub.id}/messages/${news.body.message.id}/reactions/like`),
      'NATTER_AUTH_FORBIDDEN',
    );
    await cat.api.post(`/v1/channels/${pub.id}/members`, { members: ['cat'] });
    expect((await cat.api.put(`/v1/channels/${pub.id}/messages/${news.body.message.id}/reactions/like`)).status).toBe(
      200,
    );
  });
});
