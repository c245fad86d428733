/**
 * The audit log: every moderation and admin action leaves one entry with who, what, when, and
 * the state before and after; the log is filtered by action and target and read page by page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json, TestServer } from '../harness.js';
import { startTestServer } from '../harness.js';
import { auditOf, inMs, ok, type Stage, send, stage } from './setup.js';

let h: TestServer;
beforeAll(async () => {
  h = await startTestServer();
});
afterAll(() => h.close());

/** The single entry of `action` on `targetId`, checked for the common fields. */
async function one(
  s: Stage,
  action: string,
  targetId: string,
  actor: { actorType: string; actorId: string | null },
): Promise<Json> {
  const entries = await auditOf(s, action, targetId);
  expect(entries, `${action} on ${targetId}`).toHaveLength(1);
  const [entry] = entries;
  expect(entry).toMatchObject({ action, targetId, ...actor, id: expect.stringMatching(/^au_/) });
  expect(Date.parse(entry.at)).toBeGreaterThan(Date.now() - 60_000);
  return entry;
}

const backend = { actorType: 'server', actorId: null };
const as = (id: string) => ({ actorType: 'user', actorId: id });

describe('audit log', () => {
  it('records moderation actions with before and after', async () => {
    const s = await stage(h);
    const g = s.group.id;
    const until = inMs(3_600_000);

    await ok(s.as('owen').post('/v1/moderation/bans', { userId: 'ann', channelId: g, reason: 'spam' }), 201);
    await ok(
      s.as('owen').post('/v1/moderation/bans', { userId: 'ann', channelId: g, reason: 'more spam', expiresAt: until }),
    );
    const bans = await auditOf(s, 'user.ban', 'ann');
    expect(bans).toHaveLength(2);
    expect(bans[1]).toMatchObject({
      ...as('owen'),
      targetType: 'user',
      before: null,
      after: { kind: 'ban', channelId: g, reason: 'spam' },
    });
    expect(bans[0]).toMatchObject({
      before: { reason: 'spam', expiresAt: null },
      after: { reason: 'more spam', expiresAt: until },
    });
    await ok(s.as('owen').delete(`/v1/moderation/bans/ann?channelId=${g}`), 204);
    expect(await one(s, 'user.unban', 'ann', as('owen'))).toMatchObject({
      before: { kind: 'ban', reason: 'more spam' },
      after: null,
    });
    // Lifting what is not there is no action.
    await ok(s.as('owen').delete(`/v1/moderation/bans/ann?channelId=${g}`), 204);
    expect(await auditOf(s, 'user.unban', 'ann')).toHaveLength(1);

    await ok(s.as('mod').post('/v1/moderation/mutes', { userId: 'bob', reason: 'loud' }), 201);
    expect(await one(s, 'user.mute', 'bob', as('mod'))).toMatchObject({
      before: null,
      after: { kind: 'mute', channelId: null, reason: 'loud', createdBy: 'mod' },
    });
    await ok(s.t.api.delete('/v1/moderation/mutes/bob'), 204);
    expect(await one(s, 'user.unmute', 'bob', backend)).toMatchObject({
      before: { kind: 'mute', reason: 'loud' },
      after: null,
    });

    await ok(s.as('owen').post(`/v1/channels/${g}/kick/cat`, { ban: true, reason: 'bye' }));
    const kick = await one(s, 'member.kick', 'cat', as('owen'));
    expect(kick.before).toMatchObject({ channelId: g, member: { userId: 'cat', role: 'member' } });
    expect(kick.after).toMatchObject({
      channelId: g,
      member: null,
      ban: { kind: 'ban', userId: 'cat' },
      reason: 'bye',
    });
    expect(await one(s, 'user.ban', 'cat', as('owen'))).toMatchObject({ after: { channelId: g } });

    const msg = await send(s.as('bob'), g, 'flag me');
    const flag = (await ok(s.as('owen').post(`/v1/channels/${g}/messages/${msg.id}/flags`, { reason: 'bad' }), 201))
      .flag;
    expect(await one(s, 'message.flag', msg.id, as('owen'))).toMatchObject({
      targetType: 'message',
      before: null,
      after: { id: flag.id, reason: 'bad' },
    });
    await ok(s.as('mod').post(`/v1/moderation/queue/${flag.id}/resolve`, { action: 'delete_message' }));
    expect(await one(s, 'flag.resolve', flag.id, as('mod'))).toMatchObject({
      targetType: 'flag',
      before: { status: 'open', resolution: null },
      after: { status: 'resolved', resolution: 'message_deleted', resolvedBy: 'mod' },
    });
    const deletion = await one(s, 'message.delete', msg.id, as('mod'));
    expect(deletion).toMatchObject({
      before: { text: 'flag me', deletedAt: null },
      after: { text: null, type: 'deleted' },
    });

    // Deleting someone else's message directly is audited too; one's own is not.
    const other = await send(s.as('bob'), g, 'owner deletes this');
    await ok(s.as('owen').delete(`/v1/channels/${g}/messages/${other.id}`));
    expect(await one(s, 'message.delete', other.id, as('owen'))).toMatchObject({ before: { authorId: 'bob' } });
    const mine = await send(s.as('bob'), g, 'mine');
    await ok(s.as('bob').delete(`/v1/channels/${g}/messages/${mine.id}`));
    expect(await auditOf(s, 'message.delete', mine.id)).toEqual([]);
  });

  it('records channel updates, freezing, slow mode, member removals and deletions', async () => {
    const s = await stage(h);
    const g = s.group.id;
    await ok(s.as('owen').patch(`/v1/channels/${g}`, { name: 'Renamed' }));
    expect(await one(s, 'channel.update', g, as('owen'))).toMatchObject({
      targetType: 'channel',
      before: { name: 'Group' },
      after: { name: 'Renamed' },
    });
    await ok(s.as('owen').patch(`/v1/channels/${g}`, { frozen: true }));
    expect(await one(s, 'channel.freeze', g, as('owen'))).toMatchObject({
      before: { frozen: false },
      after: { frozen: true },
    });
    await ok(s.as('owen').patch(`/v1/channels/${g}`, { frozen: false, slowModeSeconds: 10 }));
    expect(await one(s, 'channel.unfreeze', g, as('owen'))).toMatchObject({
      before: { frozen: true },
      after: { frozen: false },
    });
    expect(await one(s, 'channel.slow_mode', g, as('owen'))).toMatchObject({
      before: { slowModeSeconds: 0 },
      after: { slowModeSeconds: 10 },
    });

    await ok(s.as('owen').delete(`/v1/channels/${g}/members/bob`), 204);
    expect(await one(s, 'member.remove', 'bob', as('owen'))).toMatchObject({
      before: { channelId: g, member: { userId: 'bob' } },
      after: { channelId: g, member: null },
    });
    // Leaving is one's own business.
    await ok(s.as('cat').delete(`/v1/channels/${g}/members/cat`), 204);
    expect(await auditOf(s, 'member.remove', 'cat')).toEqual([]);

    await ok(s.as('owen').delete(`/v1/channels/${g}`), 204);
    expect(await one(s, 'channel.delete', g, as('owen'))).toMatchObject({
      before: { id: g, name: 'Renamed', slowModeSeconds: 10 },
      after: null,
    });
  });

  it('records user deletions, role changes, API keys and tenant settings', async () => {
    const s = await stage(h);
    await ok(
      s.t.api.post('/v1/users', {
        users: [
          { id: 'ann', role: 'moderator' },
          { id: 'bob', name: 'Bob' },
          { id: 'newmod', role: 'moderator' },
          { id: 'plain', role: 'member' },
        ],
      }),
    );
    expect(await one(s, 'user.role', 'ann', backend)).toMatchObject({
      before: { role: 'member' },
      after: { role: 'moderator' },
    });
    expect(await one(s, 'user.role', 'newmod', backend)).toMatchObject({ before: null, after: { role: 'moderator' } });
    expect(await auditOf(s, 'user.role', 'bob')).toEqual([]);
    expect(await auditOf(s, 'user.role', 'plain')).toEqual([]);

    await ok(s.t.api.delete('/v1/users/cat'), 204);
    expect(await one(s, 'user.delete', 'cat', backend)).toMatchObject({
      before: { id: 'cat', name: 'cat' },
      after: null,
    });

    const issued = (await ok(s.t.api.post('/v1/keys'), 201)).apiKey;
    const issue = await one(s, 'key.issue', issued.id, backend);
    expect(issue).toMatchObject({ targetType: 'apiKey', before: null, after: { id: issued.id } });
    expect(JSON.stringify(issue)).not.toContain(issued.secret);
    await ok(s.t.api.delete(`/v1/keys/${issued.id}`), 204);
    expect(await one(s, 'key.revoke', issued.id, backend)).toMatchObject({
      before: { revokedAt: null },
      after: { revokedAt: expect.any(String) },
    });

    // The platform admin's actions on the tenant land in its log, as the platform.
    const platform = { actorType: 'platform', actorId: null };
    expect(await one(s, 'key.issue', s.t.key[0], platform)).toMatchObject({ after: { id: s.t.key[0] } });
    const adminKey = (await ok(h.admin.post(`/v1/admin/tenants/${s.t.tenantId}/keys`), 201)).apiKey;
    expect(await one(s, 'key.issue', adminKey.id, platform)).toBeDefined();
    await ok(h.admin.delete(`/v1/admin/tenants/${s.t.tenantId}/keys/${adminKey.id}`), 204);
    expect(await one(s, 'key.revoke', adminKey.id, platform)).toMatchObject({
      after: { revokedAt: expect.any(String) },
    });
    await ok(h.admin.patch(`/v1/admin/tenants/${s.t.tenantId}`, { settings: { maxMessageLength: 500 } }));
    expect(await one(s, 'tenant.update', s.t.tenantId, platform)).toMatchObject({
      targetType: 'tenant',
      before: { settings: { allowedOrigins: [] } },
      after: { settings: { allowedOrigins: [], maxMessageLength: 500 } },
    });
    expect(JSON.stringify(await auditOf(s, 'tenant.update'))).not.toMatch(/signingSecret/);
  });

  it('lists newest first, filtered by action, target type and id, page by page', async () => {
    const s = await stage(h);
    for (const u of ['ann', 'bob', 'cat']) await ok(s.t.api.post('/v1/moderation/mutes', { userId: u }), 201);
    await ok(s.t.api.post('/v1/moderation/bans', { userId: 'ann' }), 201);
    const all = await ok(s.as('boss').get('/v1/audit?limit=100'));
    const actions = all.items.map((e: Json) => `${e.action} ${e.targetId}`);
    expect(actions.slice(0, 4)).toEqual(['user.ban ann', 'user.mute cat', 'user.mute bob', 'user.mute ann']);

    const p1 = await ok(s.t.api.get('/v1/audit?action=user.mute&limit=2'));
    expect(p1.items.map((e: Json) => e.targetId)).toEqual(['cat', 'bob']);
    const p2 = await ok(s.t.api.get(`/v1/audit?action=user.mute&limit=2&after=${p1.next}`));
    expect(p2).toMatchObject({ items: [{ targetId: 'ann' }], next: null });
    expect((await ok(s.t.api.get('/v1/audit?targetId=ann&targetType=user'))).items.map((e: Json) => e.action)).toEqual([
      'user.ban',
      'user.mute',
    ]);
    expect((await ok(s.t.api.get('/v1/audit?targetId=ann&targetType=channel'))).items).toEqual([]);
    expect((await s.t.api.get('/v1/audit?action=DROP TABLE')).status).toBe(400);
    expect((await s.t.api.get('/v1/audit?limit=0')).status).toBe(400);
  });
});
