// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy placeholders are literally ${…} strings.
/**
 * The ability builder: default rules per role, the final rules, the policy evaluation that tells
 * hidden from denied and says why, caching, packing for clients, and the moderation rows of the
 * policy table (enforced by the moderation service, so tested here on the abilities).
 */
import { createMongoAbility, type MongoAbility, type RawRuleOf, subject } from '@casl/ability';
import { unpackRules } from '@casl/ability/extra';
import type { Channel, ChannelType, Member, MemberRole, Message, User, UserRole } from '@natter/protocol';
import { describe, expect, it } from 'vitest';
import { abilityFor, abilityKey, asSubject, buildAbility, judge, permittedChannelFields } from './abilities.js';
import { DEFAULT_RULES } from './abilities-defaults.js';
import { type TenantPolicy, validateRules } from './abilities-policy.js';
import { channelView } from './abilities-views.js';
import type { Actor } from './actor.js';
import { type ChannelAction, decide, explain, explainTenantModeration } from './policy.js';
import { NO_RESTRICTIONS, type Restrictions } from './restrictions.js';

const user = (id: string, role: UserRole = 'member', custom: Record<string, unknown> = {}): User => ({
  id,
  name: id,
  avatarUrl: null,
  role,
  custom,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const actor = (u: User): Actor => ({ kind: 'user', tenantId: 't1', user: u });
const channel = (type: ChannelType, extra: Partial<Channel> = {}): Channel =>
  ({
    id: `c-${type}`,
    type,
    name: null,
    custom: {},
    createdBy: null,
    lastSeq: 0,
    lastMessageAt: null,
    frozen: false,
    slowModeSeconds: 0,
    endedAt: null,
    memberCount: 2,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  }) as Channel;
const member = (c: Channel, userId: string, role: MemberRole = 'member'): Member => ({
  channelId: c.id,
  userId,
  role,
  lastReadSeq: 0,
  lastReadAt: null,
  joinedAt: '2026-01-01T00:00:00.000Z',
});
const message = (c: Channel, authorId: string, createdAt = '2026-01-01T00:00:00.000Z'): Message => ({
  id: 'm1',
  channelId: c.id,
  seq: 1,
  clientMsgId: null,
  authorId,
  type: 'regular',
  text: 'hi',
  attachments: [],
  custom: {},
  encrypted: null,
  parentId: null,
  replyCount: 0,
  reactionCounts: {},
  createdAt,
  updatedAt: createdAt,
  editedAt: null,
  deletedAt: null,
});

const ROLES: UserRole[] = ['admin', 'moderator', 'member', 'guest'];
const TYPES: ChannelType[] = ['direct', 'group', 'public', 'support'];
const MEMBER_ROLES: (MemberRole | null)[] = [null, 'owner', 'moderator', 'agent', 'member', 'visitor'];

describe('the default policy', () => {
  it('is written in the tenant rule format and passes its validation (tenants can copy it)', () => {
    expect(validateRules(DEFAULT_RULES, 'default')).toEqual(DEFAULT_RULES);
  });

  it('judge() agrees with ability.can() on every role, channel type, membership and restriction', () => {
    const restrictions: Restrictions[] = [
      NO_RESTRICTIONS,
      { ...NO_RESTRICTIONS, muted: true },
      { ...NO_RESTRICTIONS, banned: true },
      { ...NO_RESTRICTIONS, slowModeWait: 3 },
    ];
    let checked = 0;
    for (const role of ROLES) {
      const ability = buildAbility({ actor: actor(user('u', role)), editWindow: 60 });
      for (const type of TYPES) {
        for (const memberRole of MEMBER_ROLES) {
          for (const r of restrictions) {
            for (const frozen of [false, true]) {
              const c = channel(type, { frozen });
              const view = channelView(c, memberRole ? member(c, 'u', memberRole) : null, r);
              for (const action of ['read', 'send', 'typing', 'markRead', 'update', 'delete', 'end', 'join', 'leave']) {
                const j = judge(ability, action, 'Channel', view);
                expect(j.allowed, `${role} ${action} ${type} ${memberRole} ${JSON.stringify(r)}`).toBe(
                  ability.can(action, asSubject('Channel', view)),
                );
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('fills ${user.id} from the acting user: own messages are theirs alone', () => {
    const c = channel('group');
    const ann = actor(user('ann'));
    const m = member(c, 'ann');
    expect(decide('editMessage', { actor: ann, channel: c, member: m, message: message(c, 'ann') })).toBe('allowed');
    expect(decide('editMessage', { actor: ann, channel: c, member: m, message: message(c, 'bob') })).toBe('denied');
  });

  it('the tenant backend may do anything; a platform key sees nothing', () => {
    const c = channel('group');
    expect(decide('delete', { actor: { kind: 'server', tenantId: 't1' }, channel: c, member: null })).toBe('allowed');
    expect(decide('read', { actor: { kind: 'platform' }, channel: c, member: null })).toBe('hidden');
  });
});

describe('decisions: hidden, denied, and why', () => {
  const ann = actor(user('ann'));
  const group = channel('group');

  it('what may not be read is hidden for every action, whatever the restrictions', () => {
    for (const action of ['read', 'send', 'delete', 'leave'] as ChannelAction[]) {
      expect(
        explain(action, {
          actor: ann,
          channel: group,
          member: null,
          restrictions: { ...NO_RESTRICTIONS, banned: true },
        }),
      ).toEqual({
        decision: 'hidden',
        reason: 'hidden',
      });
    }
  });

  it('a banned member is told so for every action but leaving, reading included', () => {
    const input = {
      actor: ann,
      channel: group,
      member: member(group, 'ann'),
      restrictions: { ...NO_RESTRICTIONS, banned: true },
    };
    expect(explain('read', input).reason).toBe('banned');
    expect(explain('send', input).reason).toBe('banned');
    expect(explain('leave', input).decision).toBe('allowed');
  });

  it('a policy denial is forbidden; a final rule says which (channel state before the actor)', () => {
    const pub = channel('public', { frozen: true });
    expect(explain('send', { actor: ann, channel: pub, member: member(pub, 'ann') }).reason).toBe('forbidden');
    const frozen = channel('group', { frozen: true });
    const muted = { ...NO_RESTRICTIONS, muted: true, slowModeWait: 5 };
    expect(
      explain('send', { actor: ann, channel: frozen, member: member(frozen, 'ann'), restrictions: muted }).reason,
    ).toBe('frozen');
    expect(
      explain('send', { actor: ann, channel: group, member: member(group, 'ann'), restrictions: muted }).reason,
    ).toBe('muted');
    expect(
      explain('send', {
        actor: ann,
        channel: group,
        member: member(group, 'ann'),
        restrictions: { ...NO_RESTRICTIONS, slowModeWait: 5 },
      }),
    ).toEqual({
      decision: 'denied',
      reason: 'slow-mode',
      retryAfter: 5,
    });
  });
});

describe('field-level rules (channel PATCH)', () => {
  const fields = (role: UserRole, memberRole: MemberRole | null, type: ChannelType = 'group') => {
    const c = channel(type);
    return permittedChannelFields(
      buildAbility({ actor: actor(user('u', role)) }),
      channelView(c, memberRole ? member(c, 'u', memberRole) : null),
    );
  };

  it('managers change everything; tenant moderators freeze and set slow mode only; plain members nothing', () => {
    expect(fields('member', 'owner')).toEqual(['name', 'custom', 'frozen', 'slowModeSeconds']);
    expect(fields('moderator', null)).toEqual(['frozen', 'slowModeSeconds']);
    expect(fields('moderator', null, 'direct')).toEqual([]);
    expect(fields('member', 'member')).toEqual([]);
    expect(fields('admin', null)).toEqual(['name', 'custom', 'frozen', 'slowModeSeconds']);
  });
});

describe('tenant policies in the ability', () => {
  const policy = (mode: TenantPolicy['mode'], rules: TenantPolicy['rules'], etag = 'e1'): TenantPolicy => ({
    mode,
    rules,
    etag,
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const c = channel('group');

  it('extend appends (later rules win); replace drops the defaults; final rules always apply', () => {
    const ann = actor(user('ann'));
    const noReads = policy('extend', [{ inverted: true, action: 'read', subject: 'Channel', roles: ['member'] }]);
    expect(
      decide('read', {
        actor: ann,
        channel: c,
        member: member(c, 'ann'),
        ability: buildAbility({ actor: ann, policy: noReads }),
      }),
    ).toBe('hidden');
    const empty = policy('replace', []);
    expect(
      decide('read', {
        actor: ann,
        channel: c,
        member: member(c, 'ann'),
        ability: buildAbility({ actor: ann, policy: empty }),
      }),
    ).toBe('hidden');
    const mutedMaySend = policy('extend', [{ action: 'send', subject: 'Channel' }]);
    const verdict = explain('send', {
      actor: ann,
      channel: c,
      member: member(c, 'ann'),
      restrictions: { ...NO_RESTRICTIONS, muted: true },
      ability: buildAbility({ actor: ann, policy: mutedMaySend }),
    });
    expect(verdict.reason).toBe('muted');
  });

  it('fills ${user.custom.…} from the stored user, with plain values only', () => {
    const rules = policy('replace', [
      { action: 'read', subject: 'Channel', conditions: { 'custom.team': '${user.custom.team}' } },
    ]);
    const red = actor(user('ann', 'member', { team: 'red' }));
    const sneaky = actor(user('bob', 'member', { team: { $ne: 'nobody' } }));
    const redChannel = channel('group', { custom: { team: 'red' } });
    const blueChannel = channel('group', { custom: { team: 'blue' } });
    const can = (a: Actor, ch: Channel) =>
      decide('read', { actor: a, channel: ch, member: null, ability: buildAbility({ actor: a, policy: rules }) });
    expect(can(red, redChannel)).toBe('allowed');
    expect(can(red, blueChannel)).toBe('hidden');
    // An object in a custom attribute is not an operator: it becomes null, which matches nothing.
    expect(can(sneaky, blueChannel)).toBe('hidden');
  });

  it('a tenant rule may give a reason for its denial', () => {
    const ann = actor(user('ann'));
    const p = policy('extend', [{ inverted: true, action: 'send', subject: 'Channel', reason: 'Quiet hours.' }]);
    expect(
      explain('send', {
        actor: ann,
        channel: c,
        member: member(c, 'ann'),
        ability: buildAbility({ actor: ann, policy: p }),
      }),
    ).toMatchObject({
      decision: 'denied',
      reason: 'forbidden',
      detail: 'Quiet hours.',
    });
  });
});

describe('final rules in the ability itself (as clients evaluate the packed rules)', () => {
  it('[final.banned] the rules deny a banned user every action on every subject of the channel, but leaving', () => {
    const ability = buildAbility({ actor: actor(user('boss', 'admin')) });
    const banned = {
      banned: true,
      channelType: 'group',
      scope: 'channel',
      type: 'group',
      isMember: true,
      memberRole: 'owner',
      authorId: 'boss',
      isAuthor: true,
    };
    const denied: [string, 'Channel' | 'Message' | 'Member' | 'Moderation'][] = [
      ['read', 'Channel'],
      ['send', 'Channel'],
      ['update', 'Channel'],
      ['edit', 'Message'],
      ['delete', 'Message'],
      ['react', 'Message'],
      ['read', 'Member'],
      ['add', 'Member'],
      ['ban', 'Moderation'],
      ['flag', 'Moderation'],
      ['reviewFlags', 'Moderation'],
    ];
    for (const [action, subjectName] of denied) {
      expect(ability.can(action, asSubject(subjectName, banned)), `${action} ${subjectName}`).toBe(false);
      expect(
        ability.can(action, asSubject(subjectName, { ...banned, banned: false })),
        `${action} ${subjectName}`,
      ).toBe(true);
    }
    expect(ability.can('leave', asSubject('Channel', { ...banned, isMember: true }))).toBe(true);
  });

  it('[final.self] nobody bans, mutes or kicks themselves, whatever a tenant policy grants', () => {
    const me = actor(user('me', 'member'));
    const c = channel('group');
    const grant: TenantPolicy = {
      mode: 'extend',
      rules: [{ action: ['ban', 'mute', 'kick'], subject: 'Moderation' }],
      etag: 'g',
      updatedAt: '',
    };
    const ability = buildAbility({ actor: me, policy: grant });
    const against = (id: string) =>
      explain('ban', {
        actor: me,
        channel: c,
        member: member(c, 'me'),
        ability,
        target: { user: { id, role: 'member' } },
      });
    expect(against('other').decision).toBe('allowed');
    expect(against('me')).toEqual({ decision: 'denied', reason: 'self' });
    expect(explainTenantModeration('mute', { actor: me, ability, target: { id: 'me', role: 'member' } }).reason).toBe(
      'self',
    );
  });
});

describe('caching and packing', () => {
  it('abilities are cached by what they are built from', () => {
    const ann = user('ann');
    const a = abilityFor({ actor: actor(ann) });
    expect(abilityFor({ actor: actor({ ...ann, name: 'Ann' }) })).toBe(a);
    expect(abilityFor({ actor: actor({ ...ann, role: 'moderator' }) })).not.toBe(a);
    expect(abilityFor({ actor: actor(ann), editWindow: 30 })).not.toBe(a);
    const p: TenantPolicy = { mode: 'extend', rules: [], etag: 'x', updatedAt: '' };
    expect(abilityKey({ actor: actor(ann), policy: p })).not.toBe(
      abilityKey({ actor: actor(ann), policy: { ...p, etag: 'y' } }),
    );
    // Custom attributes count only when the policy reads them.
    expect(abilityFor({ actor: actor({ ...ann, custom: { team: 'x' } }) })).toBe(a);
    const readsTeam: TenantPolicy = {
      ...p,
      rules: [{ action: 'read', subject: 'Channel', conditions: { 'custom.team': '${user.custom.team}' } }],
    };
    expect(abilityKey({ actor: actor({ ...ann, custom: { team: 'x' } }), policy: readsTeam })).not.toBe(
      abilityKey({ actor: actor(ann), policy: readsTeam }),
    );
  });

  it('users of one role share one ability, which still tells their own messages and selves apart', () => {
    const ann = actor(user('ann'));
    const bob = actor(user('bob'));
    const shared = abilityFor({ actor: ann });
    expect(abilityFor({ actor: bob })).toBe(shared);
    expect(abilityFor({ actor: actor(user('bob', 'moderator')) })).not.toBe(shared);
    const c = channel('group');
    const byAnn = message(c, 'ann');
    for (const action of ['editMessage', 'deleteMessage'] as const) {
      const as = (who: Actor, name: string) =>
        explain(action, { actor: who, channel: c, member: member(c, name), message: byAnn, ability: shared.ability });
      expect(as(ann, 'ann').decision, action).toBe('allowed');
      expect(as(bob, 'bob').decision, action).toBe('denied');
    }
    const grant: TenantPolicy = {
      mode: 'extend',
      rules: [{ action: 'ban', subject: 'Moderation' }],
      etag: 'g',
      updatedAt: '',
    };
    const sharedGrant = abilityFor({ actor: ann, policy: grant });
    expect(abilityFor({ actor: bob, policy: grant })).toBe(sharedGrant);
    const ban = (who: Actor, target: string) =>
      explainTenantModeration('ban', {
        actor: who,
        ability: sharedGrant.ability,
        target: { id: target, role: 'member' },
      });
    expect(ban(ann, 'ann').reason).toBe('self');
    expect(ban(ann, 'bob').decision).toBe('allowed');
    expect(ban(bob, 'bob').reason).toBe('self');
    // A policy that reads the user's id gives each user their own ability.
    const readsId: TenantPolicy = {
      ...grant,
      etag: 'i',
      rules: [{ action: 'read', subject: 'Channel', conditions: { createdBy: '${user.id}' } }],
    };
    expect(abilityFor({ actor: bob, policy: readsId })).not.toBe(abilityFor({ actor: ann, policy: readsId }));
  });

  it('packed rules unpack on a client into an ability that answers like the server', () => {
    const ann = user('ann');
    const server = abilityFor({ actor: actor(ann), editWindow: 60 });
    const client = createMongoAbility(unpackRules<RawRuleOf<MongoAbility>>(JSON.parse(JSON.stringify(server.packed))));
    for (const type of TYPES) {
      for (const memberRole of MEMBER_ROLES) {
        const c = channel(type);
        const view = channelView(c, memberRole ? member(c, 'ann', memberRole) : null);
        for (const action of ['read', 'send', 'update', 'join']) {
          expect(client.can(action, subject('Channel', { ...view }))).toBe(
            server.ability.can(action, asSubject('Channel', view)),
          );
        }
      }
    }
  });
});

describe('moderation (enforced by the moderation service)', () => {
  const c = channel('group');
  const target = (role: UserRole, memberRole: MemberRole | null = 'member') => ({
    user: { id: 'tgt', role },
    member: memberRole ? { role: memberRole } : null,
  });
  const inChannel = (role: UserRole, memberRole: MemberRole | null, action: ChannelAction, t = target('member')) =>
    decide(action, {
      actor: actor(user('me', role)),
      channel: c,
      member: memberRole ? member(c, 'me', memberRole) : null,
      target: t,
    });

  it('[moderation.ban] managers act on ordinary members in their channel; staff everywhere; nobody on staff above them or on themselves', () => {
    expect(inChannel('member', 'owner', 'ban')).toBe('allowed');
    expect(inChannel('member', 'agent', 'mute')).toBe('allowed');
    expect(inChannel('member', 'member', 'ban')).toBe('denied');
    expect(inChannel('member', 'owner', 'kick', target('member', 'moderator'))).toBe('denied');
    expect(inChannel('member', 'owner', 'ban', target('moderator'))).toBe('denied');
    expect(inChannel('moderator', null, 'ban')).toBe('allowed');
    expect(inChannel('moderator', null, 'ban', target('moderator'))).toBe('denied');
    expect(inChannel('admin', null, 'ban', target('moderator'))).toBe('allowed');
    expect(inChannel('admin', null, 'ban', target('admin'))).toBe('denied');
    expect(inChannel('member', 'owner', 'ban', { user: { id: 'me', role: 'member' }, member: { role: 'owner' } })).toBe(
      'denied',
    );
    const tenantWide = (role: UserRole, t: UserRole) =>
      explainTenantModeration('ban', { actor: actor(user('me', role)), target: { id: 'tgt', role: t } }).decision;
    expect(tenantWide('moderator', 'member')).toBe('allowed');
    expect(tenantWide('moderator', 'admin')).toBe('denied');
    expect(tenantWide('member', 'guest')).toBe('denied');
    expect(explainTenantModeration('ban', { actor: { kind: 'server', tenantId: 't1' } }).decision).toBe('allowed');
  });

  it('[moderation.flag] whoever may read a channel may flag in it', () => {
    expect(inChannel('guest', 'visitor', 'flag')).toBe('allowed');
    expect(inChannel('member', 'member', 'flag')).toBe('allowed');
    expect(inChannel('member', null, 'flag')).toBe('hidden');
  });

  it("[moderation.reviewFlags] managers see their channel's flags; tenant staff every flag", () => {
    expect(inChannel('member', 'moderator', 'reviewFlags')).toBe('allowed');
    expect(inChannel('member', 'member', 'reviewFlags')).toBe('denied');
    const tenantWide = (role: UserRole) =>
      explainTenantModeration('reviewFlags', { actor: actor(user('me', role)) }).decision;
    expect(tenantWide('moderator')).toBe('allowed');
    expect(tenantWide('admin')).toBe('allowed');
    expect(tenantWide('member')).toBe('denied');
  });

  it('[moderation.audit] tenant admins (and the backend) read the audit log', () => {
    const audit = (a: Actor) => explainTenantModeration('readAudit', { actor: a }).decision;
    expect(audit(actor(user('me', 'admin')))).toBe('allowed');
    expect(audit(actor(user('me', 'moderator')))).toBe('denied');
    expect(audit(actor(user('me', 'member')))).toBe('denied');
    expect(audit({ kind: 'server', tenantId: 't1' })).toBe('allowed');
  });
});
