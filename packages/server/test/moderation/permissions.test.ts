/**
 * Who may moderate whom, and tenant isolation: a tenant never bans, flags or reads the queue or
 * audit log of another; every foreign id answers exactly like a missing one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { expectError, outcome } from '../http/assertions.js';
import { ok, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

describe('who may moderate', () => {
  it('members may not ban, mute or kick (403); channel managers act in their channel only; staff tenant-wide', async () => {
    const s = await stage(h);
    const g = s.group.id;
    expectError(await s.as('ann').post('/v1/moderation/bans', { userId: 'bob' }), 'NATTER_AUTH_FORBIDDEN');
    expectError(
      await s.as('ann').post('/v1/moderation/bans', { userId: 'bob', channelId: g }),
      'NATTER_AUTH_FORBIDDEN',
    );
    expectError(
      await s.as('ann').post('/v1/moderation/mutes', { userId: 'bob', channelId: g }),
      'NATTER_AUTH_FORBIDDEN',
    );
    expectError(await s.as('ann').post(`/v1/channels/${g}/kick/bob`), 'NATTER_AUTH_FORBIDDEN');
    expectError(await s.as('ann').delete(`/v1/moderation/bans/bob?channelId=${g}`), 'NATTER_AUTH_FORBIDDEN');
    expectError(await s.as('ann').get(`/v1/moderation/bans?channelId=${g}`), 'NATTER_AUTH_FORBIDDEN');

    // The owner of the group: in the group, yes; tenant-wide or in a channel they do not manage, no.
    await ok(s.as('owen').post('/v1/moderation/mutes', { userId: 'bob', channelId: g }), 201);
    expectError(await s.as('owen').post('/v1/moderation/mutes', { userId: 'bob' }), 'NATTER_AUTH_FORBIDDEN');
    const other = (await ok(s.t.api.post('/v1/channels', { type: 'group', members: ['bob', 'owen'] }), 201)).channel;
    expectError(
      await s.as('owen').post('/v1/moderation/bans', { userId: 'bob', channelId: other.id }),
      'NATTER_AUTH_FORBIDDEN',
    );
    // A channel they cannot see does not exist for them.
    const hidden = (await ok(s.t.api.post('/v1/channels', { type: 'group', members: ['bob'] }), 201)).channel;
    expectError(
      await s.as('owen').post('/v1/moderation/bans', { userId: 'bob', channelId: hidden.id }),
      'NATTER_CHANNEL_NOT_FOUND',
    );

    // Tenant staff moderate anywhere, members of the channel or not.
    await ok(s.as('mod').post('/v1/moderation/bans', { userId: 'bob', channelId: hidden.id }), 201);
    await ok(s.as('mod').post('/v1/moderation/mutes', { userId: 'cat' }), 201);
  });

  it('nobody moderates themselves or someone of equal or higher rank', async () => {
    const s = await stage(h);
    const g = s.group.id;
    expectError(await s.as('mod').post('/v1/moderation/bans', { userId: 'mod' }), 'NATTER_REQUEST_INVALID', 'userId');
    expectError(await s.as('mod').post('/v1/moderation/bans', { userId: 'boss' }), 'NATTER_AUTH_FORBIDDEN', 'userId');
    await ok(s.t.api.post('/v1/users', { users: [{ id: 'mod2', role: 'moderator' }] }));
    expectError(await s.as('mod').post('/v1/moderation/mutes', { userId: 'mod2' }), 'NATTER_AUTH_FORBIDDEN', 'userId');
    expectError(
      await s.as('owen').post('/v1/moderation/bans', { userId: 'mod', channelId: s.lobby.id }),
      'NATTER_AUTH_FORBIDDEN',
    );
    // A second owner of the same channel ranks as high as owen.
    await ok(
      s.t.api.post('/v1/channels', {
        id: 'co-owned',
        type: 'group',
        members: [
          { userId: 'owen', role: 'owner' },
          { userId: 'ann', role: 'owner' },
        ],
      }),
      201,
    );
    expectError(await s.as('owen').post('/v1/channels/co-owned/kick/ann'), 'NATTER_AUTH_FORBIDDEN');
    // Admins moderate moderators; the backend moderates anyone.
    await ok(
      s
        .as('boss')
        .post('/v1/moderation/mutes', { userId: 'mod', expiresAt: new Date(Date.now() + 60_000).toISOString() }),
      201,
    );
    await ok(s.t.api.post('/v1/moderation/bans', { userId: 'boss', channelId: g }), 201);
  });

  it('the audit log is for the backend and tenant admins', async () => {
    const s = await stage(h);
    expect((await s.as('boss').get('/v1/audit')).status).toBe(200);
    expect((await s.t.api.get('/v1/audit')).status).toBe(200);
    for (const u of ['mod', 'owen', 'ann']) expectError(await s.as(u).get('/v1/audit'), 'NATTER_AUTH_FORBIDDEN');
  });
});

describe('tenant isolation', () => {
  it('tenant A cannot ban, flag, resolve or see the queue, bans or audit of tenant B: the same 404 as a missing id', async () => {
    const a = await stage(h);
    const b = await stage(h);
    const bMessage = await send(b.as('bob'), b.group.id, 'in B');
    const bFlag = (
      await ok(b.as('ann').post(`/v1/channels/${b.group.id}/messages/${bMessage.id}/flags`, { reason: 'B' }), 201)
    ).flag;
    await ok(b.t.api.post('/v1/moderation/bans', { userId: 'cat', reason: 'B ban' }), 201);
    await ok(b.t.api.post(`/v1/channels/${b.group.id}/kick/cat`));

    // B's users and channels, by id, from A (ids that exist in B only).
    await ok(b.t.api.post('/v1/users', { users: [{ id: 'only-in-b' }] }));
    const bOnly = (await ok(b.t.api.post('/v1/channels', { id: 'b-only', type: 'group', members: ['bob'] }), 201))
      .channel;
    const same = (path: string, body: unknown) =>
      Promise.all([a.t.api.post(path, body), a.t.api.post(path.replace(/only-in-b|b-only/, 'never-existed'), body)]);
    const [foreignUser, missingUser] = await same('/v1/moderation/bans', { userId: 'only-in-b' });
    expectError(foreignUser, 'NATTER_USER_NOT_FOUND');
    expect(outcome(foreignUser)).toEqual(outcome(missingUser));
    const [foreignChannel, missingChannel] = await same('/v1/moderation/bans', { userId: 'ann', channelId: bOnly.id });
    expectError(foreignChannel, 'NATTER_CHANNEL_NOT_FOUND');
    expect(outcome(foreignChannel)).toEqual(outcome(missingChannel));
    expectError(await a.t.api.post(`/v1/channels/${bOnly.id}/kick/bob`), 'NATTER_CHANNEL_NOT_FOUND');
    expectError(await a.as('mod').post('/v1/moderation/mutes', { userId: 'only-in-b' }), 'NATTER_USER_NOT_FOUND');

    // B's message and flag, from A.
    const foreignFlag = await a
      .as('ann')
      .post(`/v1/channels/${bOnly.id}/messages/${bMessage.id}/flags`, { reason: 'x' });
    expectError(foreignFlag, 'NATTER_CHANNEL_NOT_FOUND');
    expectError(
      await a.as('ann').post(`/v1/channels/${a.group.id}/messages/${bMessage.id}/flags`, { reason: 'x' }),
      'NATTER_MESSAGE_NOT_FOUND',
    );
    const [foreignResolve, missingResolve] = await Promise.all([
      a.t.api.post(`/v1/moderation/queue/${bFlag.id}/resolve`, { action: 'delete_message' }),
      a.t.api.post('/v1/moderation/queue/flg_never/resolve', { action: 'delete_message' }),
    ]);
    expectError(foreignResolve, 'NATTER_MESSAGE_NOT_FOUND', 'flagId');
    expect(outcome(foreignResolve)).toEqual(outcome(missingResolve));
    expect((await b.as('ann').get(`/v1/channels/${b.group.id}/messages/${bMessage.id}`)).body.message.text).toBe(
      'in B',
    );

    // Lists through A show none of B's records.
    expect((await ok(a.t.api.get('/v1/moderation/queue'))).items).toEqual([]);
    expect((await ok(a.t.api.get('/v1/moderation/bans'))).items).toEqual([]);
    const aAudit = (await ok(a.t.api.get('/v1/audit?limit=200'))).items;
    expect(aAudit.map((e: { targetId: string }) => e.targetId)).not.toContain('cat');
    expect(aAudit.map((e: { targetId: string }) => e.targetId)).not.toContain(bMessage.id);
    expect((await ok(a.t.api.get(`/v1/audit?targetId=${bFlag.id}`))).items).toEqual([]);
    // And B still has them all.
    expect((await ok(b.t.api.get('/v1/moderation/queue'))).items).toHaveLength(1);
    expect((await ok(b.t.api.get('/v1/moderation/bans'))).items).toHaveLength(1);
    expect((await ok(b.t.api.get('/v1/audit?action=member.kick'))).items).toHaveLength(1);
    // Lifting B's ban through A changes nothing in B (cat exists in A too: A's own no-op).
    expect((await a.t.api.delete('/v1/moderation/bans/cat')).status).toBe(204);
    expect((await ok(b.t.api.get('/v1/moderation/bans'))).items).toHaveLength(1);
    expectError(await b.as('cat').get(`/v1/channels/${b.lobby.id}/messages`), 'NATTER_USER_BANNED');
  });
});
