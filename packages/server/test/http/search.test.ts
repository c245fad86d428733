/**
 * `GET /v1/search`: full-text search over the channels the caller may read. The index is fed from
 * the bus, so each test drains the outbox relay and then waits for the index to catch up.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Client,
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
let t: TestTenant;
let ann: TestUser;
let bob: TestUser;
let cat: TestUser;
let group: string;
let pub: string;

beforeAll(async () => {
  h = await startTestServer();
  t = await createTenant(h);
  await createUsers(t, ['ann', 'bob', 'cat']);
  [ann, bob, cat] = (await Promise.all(['ann', 'bob', 'cat'].map((id) => userClient(t, id)))) as [
    TestUser,
    TestUser,
    TestUser,
  ];
  group = (await createChannel(ann.api, { type: 'group', members: ['bob'] })).id;
  pub = (await createChannel(t.api, { type: 'public', name: 'News' })).id;
  await ann.api.post(`/v1/channels/${group}/messages`, { text: 'the banana plan is secret' });
  await bob.api.post(`/v1/channels/${group}/messages`, { text: 'bananas <b>everywhere</b> & more' });
  await t.api.post(`/v1/channels/${pub}/messages`, { text: 'banana news for everyone', system: true });
  await ann.api.post(`/v1/channels/${group}/messages`, { text: 'apples only' });
  await indexed(t.api, `/v1/search?q=banana&userId=ann`, 3);
});
afterAll(() => h.close());

/** Drains the outbox to the bus, then waits until the index answers `total` hits for `path`. */
async function indexed(client: Client, path: string, total: number): Promise<void> {
  await h.server.relay.drain();
  await vi.waitFor(async () => expect((await client.get(path)).body.total).toBe(total), {
    timeout: 15_000,
    interval: 20,
  });
}

const texts = (body: { results: { message: { text: string } }[] }) => body.results.map((r) => r.message.text).sort();

describe('GET /v1/search', () => {
  it('finds messages in the channels a member reads (prefix match), with escaped highlights', async () => {
    const res = await ann.api.get('/v1/search?q=banana');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3);
    expect(texts(res.body)).toEqual([
      'banana news for everyone',
      'bananas <b>everywhere</b> & more',
      'the banana plan is secret',
    ]);
    const html = res.body.results.find((r: { message: { text: string } }) => r.message.text.startsWith('bananas'));
    expect(html.highlight).toContain('<mark>');
    expect(html.highlight).not.toContain('<b>');
  });

  it('an outsider finds only public channels; naming a group they cannot read is 404', async () => {
    const res = await cat.api.get('/v1/search?q=banana');
    expect(texts(res.body)).toEqual(['banana news for everyone']);
    expect(res.body.total).toBe(1);
    expectError(await cat.api.get(`/v1/search?q=banana&channelId=${group}`), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
    expectError(await cat.api.get('/v1/search?q=banana&channelId=nope'), 'NATTER_CHANNEL_NOT_FOUND', 'channelId');
  });

  it('narrows to one channel, and pages with limit and offset', async () => {
    const one = await bob.api.get(`/v1/search?q=banana&channelId=${group}`);
    expect(texts(one.body)).toEqual(['bananas <b>everywhere</b> & more', 'the banana plan is secret']);
    const page1 = await ann.api.get('/v1/search?q=banana&limit=2');
    const page2 = await ann.api.get('/v1/search?q=banana&limit=2&offset=2');
    expect(page1.body.results).toHaveLength(2);
    expect(page2.body.results).toHaveLength(1);
    expect(page1.body.total).toBe(3);
    const ids = [...page1.body.results, ...page2.body.results].map((r: { message: { id: string } }) => r.message.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('the backend searches as a user or in a channel, never unscoped', async () => {
    expect((await t.api.get('/v1/search?q=banana&userId=cat')).body.total).toBe(1);
    expect((await t.api.get(`/v1/search?q=banana&channelId=${group}`)).body.total).toBe(2);
    expectError(await t.api.get('/v1/search?q=banana'), 'NATTER_REQUEST_INVALID', 'channelId');
    expectError(await ann.api.get('/v1/search?q=banana&userId=bob'), 'NATTER_REQUEST_INVALID', 'userId');
  });

  it('a deleted message is no longer found', async () => {
    const sent = await bob.api.post(`/v1/channels/${group}/messages`, { text: 'kiwi fleeting' });
    await indexed(bob.api, '/v1/search?q=kiwi', 1);
    expect((await bob.api.delete(`/v1/channels/${group}/messages/${sent.body.message.id}`)).status).toBe(200);
    await indexed(bob.api, '/v1/search?q=kiwi', 0);
    expect((await bob.api.get('/v1/search?q=kiwi')).body.results).toEqual([]);
  });

  it.each([
    ['no q', '', 'querystring.q'],
    ['an empty q', 'q=', 'querystring.q'],
    ['a q too long', `q=${'a'.repeat(257)}`, 'querystring.q'],
    ['limit 0', 'q=a&limit=0', 'querystring.limit'],
    ['limit 101', 'q=a&limit=101', 'querystring.limit'],
    ['a negative offset', 'q=a&offset=-1', 'querystring.offset'],
    ['an unknown parameter', 'q=a&sort=new', 'querystring.sort'],
    ['a bad channelId', 'q=a&channelId=a%20b', 'querystring.channelId'],
  ])('refuses %s', async (_what, query, field) => {
    expectError(await ann.api.get(`/v1/search?${query}`), 'NATTER_REQUEST_INVALID', field);
  });

  it('operators in q are words, not syntax', async () => {
    const res = await ann.api.get(`/v1/search?q=${encodeURIComponent('banana OR "x" NEAR(*')}`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
  });
});
