/**
 * Policy table rows about channels, through the real server (REST and realtime): creating,
 * reading, listing, changing, deleting, ending, joining and leaving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError } from '../http/assertions.js';
import { expectFrameError, restSend } from '../realtime/helpers.js';
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

const create = (who: Parameters<Cast['as']>[0], input: Record<string, unknown>) =>
  c.as(who).post('/v1/channels', input);

describe('channels', () => {
  it("[channel.create] public channels are the backend's and admins'; guests open support conversations only", async () => {
    expectOk(await c.backend.post('/v1/channels', { type: 'public' }));
    expectOk(await create('boss', { type: 'public' }));
    for (const who of ['mod', 'ann'] as const) {
      expectForbidden(await create(who, { type: 'public' }));
      expectOk(await create(who, { type: 'group', members: ['bob'] }));
      expectOk(await create(who, { type: 'support', members: ['cat'] }));
    }
    expectOk(await create('ann', { type: 'direct', members: ['cat'] }));
    expectOk(await create('gus', { type: 'support', members: ['ann'] }));
    expectForbidden(await create('gus', { type: 'group', members: ['ann'] }));
    expectForbidden(await create('gus', { type: 'direct', members: ['ann'] }));
    expectForbidden(await create('gus', { type: 'public' }));
  });

  it('[channel.read] members read their channels, everyone public ones; tenant moderators all but direct ones; admins all', async () => {
    const g = await group(c);
    const pub = await publicChannel(c);
    const dm = await direct(c);
    const read = (who: Parameters<Cast['as']>[0], id: string) => c.as(who).get(`/v1/channels/${id}/messages`);
    expectOk(await read('bob', g.id));
    expectHidden(await read('cat', g.id));
    expectHidden(await read('gus', g.id));
    expectOk(await read('mod', g.id));
    expectHidden(await read('mod', dm.id));
    expectOk(await read('boss', dm.id));
    expectOk(await c.backend.get(`/v1/channels/${dm.id}`));
    for (const who of ['cat', 'gus', 'mod'] as const) expectOk(await read(who, pub.id));
    // The same over realtime.
    const [mod, cat] = await Promise.all([c.connect('mod'), c.connect('cat')]);
    expect((await mod.request({ type: 'subscribe', channelId: g.id })).channel.id).toBe(g.id);
    await expectFrameError(
      mod.request({ type: 'subscribe', channelId: dm.id }),
      'NATTER_CHANNEL_NOT_FOUND',
      'channelId',
    );
    await expectFrameError(
      cat.request({ type: 'subscribe', channelId: g.id }),
      'NATTER_CHANNEL_NOT_FOUND',
      'channelId',
    );
    await Promise.all([mod.close(), cat.close()]);
  });

  it('[channel.update] managers and admins rename; plain members and tenant moderators may not', async () => {
    const g = await group(c);
    expectOk(await c.as('ann').patch(`/v1/channels/${g.id}`, { name: 'by owner', custom: { a: 1 } }));
    expectOk(await c.as('boss').patch(`/v1/channels/${g.id}`, { name: 'by admin' }));
    expectForbidden(await c.as('bob').patch(`/v1/channels/${g.id}`, { name: 'by member' }));
    expectForbidden(await c.as('mod').patch(`/v1/channels/${g.id}`, { name: 'by moderator' }));
    expectHidden(await c.as('cat').patch(`/v1/channels/${g.id}`, { name: 'by outsider' }));
    const s = await support(c);
    expectOk(await c.as('ann').patch(`/v1/channels/${s.id}`, { name: 'by agent' }));
    expectForbidden(await c.as('gus').patch(`/v1/channels/${s.id}`, { name: 'by visitor' }));
    expect((await c.backend.get(`/v1/channels/${g.id}`)).body.channel).toMatchObject({
      name: 'by admin',
      custom: { a: 1 },
    });
  });

  it('[channel.freeze] managers, tenant moderators (but in direct channels) and admins freeze; plain members may not', async () => {
    const g = await group(c);
    const frozen = async (who: Parameters<Cast['as']>[0], id: string, value: boolean) => {
      const res = await c.as(who).patch(`/v1/channels/${id}`, { frozen: value });
      expectOk(res, who);
      expect(res.body.channel.frozen).toBe(value);
    };
    await frozen('ann', g.id, true);
    await frozen('mod', g.id, false);
    await frozen('boss', g.id, true);
    expectForbidden(await c.as('bob').patch(`/v1/channels/${g.id}`, { frozen: false }));
    const dm = await direct(c);
    expectHidden(await c.as('mod').patch(`/v1/channels/${dm.id}`, { frozen: true }));
  });

  it('[channel.fields] a PATCH keeps the fields the caller may change and leaves out the others', async () => {
    const g = await group(c, { name: 'before' });
    const res = await c.as('mod').patch(`/v1/channels/${g.id}`, { name: 'renamed by moderator', frozen: true });
    expectOk(res);
    expect(res.body.channel).toMatchObject({ name: 'before', frozen: true });
    // Nothing the caller may change: refused, nothing written.
    expectForbidden(await c.as('bob').patch(`/v1/channels/${g.id}`, { name: 'x', frozen: false }));
    const both = await c.as('ann').patch(`/v1/channels/${g.id}`, { name: 'by owner', frozen: false });
    expect(both.body.channel).toMatchObject({ name: 'by owner', frozen: false });
  });

  it('[channel.delete] the owner, admins and the backend delete; members and tenant moderators may not', async () => {
    for (const who of ['ann', 'boss'] as const)
      expect((await c.as(who).delete(`/v1/channels/${(await group(c)).id}`)).status).toBe(204);
    expect((await c.backend.delete(`/v1/channels/${(await group(c)).id}`)).status).toBe(204);
    const g = await group(c);
    expectForbidden(await c.as('bob').delete(`/v1/channels/${g.id}`));
    expectForbidden(await c.as('mod').delete(`/v1/channels/${g.id}`));
  });

  it('[channel.end] the visitor, the agents and admins end a support conversation; others may not', async () => {
    for (const who of ['gus', 'ann', 'boss'] as const) {
      const s = await support(c);
      expectOk(await c.as(who).post(`/v1/channels/${s.id}/end`), who);
    }
    const s = await support(c);
    expectForbidden(await c.as('mod').post(`/v1/channels/${s.id}/end`));
    expectHidden(await c.as('cat').post(`/v1/channels/${s.id}/end`));
    expectForbidden(await c.as('ann').post(`/v1/channels/${(await group(c)).id}/end`));
  });

  it('[channel.join] users join public channels by adding themselves; guests do not; nobody joins a group', async () => {
    const pub = await publicChannel(c);
    expectOk(await c.as('cat').post(`/v1/channels/${pub.id}/members`, { members: ['cat'] }));
    expectOk(await c.as('mod').post(`/v1/channels/${pub.id}/members`, { members: ['mod'] }));
    expectForbidden(await c.as('gus').post(`/v1/channels/${pub.id}/members`, { members: ['gus'] }));
    expectHidden(await c.as('cat').post(`/v1/channels/${(await group(c)).id}/members`, { members: ['cat'] }));
  });

  it('[channel.leave] members leave; who is not a member cannot', async () => {
    const s = await support(c);
    expect((await c.as('gus').delete(`/v1/channels/${s.id}/members/gus`)).status).toBe(204);
    const pub = await publicChannel(c);
    expect((await c.as('bob').delete(`/v1/channels/${pub.id}/members/bob`)).status).toBe(204);
    expectForbidden(await c.as('cat').delete(`/v1/channels/${pub.id}/members/cat`));
  });
});

describe('lists', () => {
  it("[channel.list] the caller's channels and search show only what their rules let them read", async () => {
    const secret = await group(c, { custom: { secret: true } });
    const open = await group(c);
    await restSend(c.as('ann'), secret.id, { text: 'needle in the secret room' });
    await restSend(c.as('ann'), open.id, { text: 'needle in the open room' });
    const policy = await c.backend.put('/v1/policy', {
      mode: 'extend',
      rules: [
        {
          roles: ['member'],
          inverted: true,
          action: 'read',
          subject: 'Channel',
          conditions: { 'custom.secret': true },
        },
      ],
    });
    expectOk(policy);
    try {
      const listed = (await c.as('bob').get('/v1/channels?limit=200')).body.items.map(
        (i: { channel: { id: string } }) => i.channel.id,
      );
      expect(listed).toContain(open.id);
      expect(listed).not.toContain(secret.id);
      await h.server.relay.drain();
      await expect.poll(async () => (await c.as('bob').get('/v1/search?q=needle')).body.results.length).toBe(1);
      const found = (await c.as('bob').get('/v1/search?q=needle')).body.results.map(
        (r: { message: { channelId: string } }) => r.message.channelId,
      );
      expect(found).toEqual([open.id]);
      expectError(await c.as('bob').get(`/v1/search?q=needle&channelId=${secret.id}`), 'NATTER_CHANNEL_NOT_FOUND');
      // The rule is for members only: the admin still reads the channel.
      expectOk(await c.as('boss').get(`/v1/search?q=needle&channelId=${secret.id}`));
    } finally {
      expect((await c.backend.delete('/v1/policy')).status).toBe(204);
    }
    expect(
      (await c.as('bob').get('/v1/channels?limit=200')).body.items.map(
        (i: { channel: { id: string } }) => i.channel.id,
      ),
    ).toContain(secret.id);
  });
});
