/**
 * The default policy, written in the same JSON rule format tenants use (so `GET /v1/policy` can
 * show it and a tenant can copy and edit it), and the final rules no policy can override.
 *
 * Within a policy, later rules win (CASL). The final rules come after every tenant rule: bans,
 * mutes, blocks, slow mode, frozen and ended channels, and the edit window always apply.
 *
 * @see docs/security.md#the-default-policy (the table there is tested row by row)
 */
import type { RawRuleOf } from '@casl/ability';
import type { PolicyRule } from './abilities-policy.js';
import type { SubjectName } from './abilities-vocabulary.js';

/** Member roles that manage a channel. */
const MANAGERS = ['owner', 'moderator', 'agent'];
const NOT_GUESTS = ['admin', 'moderator', 'member'] as PolicyRule['roles'];

export const DEFAULT_RULES: readonly PolicyRule[] = Object.freeze([
  // Reading: members read their channels, everyone reads public ones; tenant moderators read
  // every channel but direct ones, tenant admins every channel.
  { action: 'read', subject: 'Channel', conditions: { isMember: true } },
  { action: 'read', subject: 'Channel', conditions: { type: 'public' } },
  { action: 'read', subject: 'Member', conditions: { isMember: true } },
  { roles: NOT_GUESTS, action: 'read', subject: 'Member', conditions: { channelType: 'public' } },
  { roles: ['moderator'], action: 'read', subject: 'Channel', conditions: { type: { $ne: 'direct' } } },
  { roles: ['moderator'], action: 'read', subject: 'Member', conditions: { channelType: { $ne: 'direct' } } },
  { roles: ['admin'], action: 'read', subject: ['Channel', 'Member'] },

  // Creating channels: public ones are the backend's and admins'; guests open support conversations.
  {
    roles: NOT_GUESTS,
    action: 'create',
    subject: 'Channel',
    conditions: { type: { $in: ['direct', 'group', 'support'] } },
  },
  { roles: ['guest'], action: 'create', subject: 'Channel', conditions: { type: 'support' } },
  { roles: ['admin'], action: 'create', subject: 'Channel' },

  // Taking part. Public channels are broadcast: their managers post, everyone reads.
  {
    roles: NOT_GUESTS,
    action: ['send', 'typing'],
    subject: 'Channel',
    conditions: { isMember: true, type: { $ne: 'public' } },
  },
  {
    roles: NOT_GUESTS,
    action: ['send', 'typing'],
    subject: 'Channel',
    conditions: { type: 'public', memberRole: { $in: MANAGERS } },
  },
  { roles: ['admin'], action: ['send', 'typing'], subject: 'Channel', conditions: { isMember: true } },
  { roles: NOT_GUESTS, action: 'react', subject: 'Message', conditions: { isMember: true } },
  { roles: NOT_GUESTS, action: 'join', subject: 'Channel', conditions: { type: 'public' } },
  // Guests write only as the visitor of a support conversation.
  {
    roles: ['guest'],
    action: ['send', 'typing'],
    subject: 'Channel',
    conditions: { type: 'support', memberRole: 'visitor' },
  },
  {
    roles: ['guest'],
    action: 'react',
    subject: 'Message',
    conditions: { channelType: 'support', memberRole: 'visitor' },
  },
  { action: ['markRead', 'leave'], subject: 'Channel', conditions: { isMember: true } },
  { action: 'flag', subject: 'Moderation', conditions: { scope: 'channel' } },

  // Own messages.
  { action: ['edit', 'delete'], subject: 'Message', conditions: { isAuthor: true } },

  // Channel managers (owner, moderator, agent members): everything in their channel but deleting
  // it (the owner's) and acting against tenant staff or other managers.
  {
    action: 'update',
    subject: 'Channel',
    fields: ['name', 'custom', 'frozen', 'slowModeSeconds'],
    conditions: { memberRole: { $in: MANAGERS } },
  },
  { action: ['add', 'remove'], subject: 'Member', conditions: { memberRole: { $in: MANAGERS } } },
  { action: 'delete', subject: 'Message', conditions: { memberRole: { $in: MANAGERS } } },
  { action: 'delete', subject: 'Channel', conditions: { memberRole: 'owner' } },
  { action: 'end', subject: 'Channel', conditions: { type: 'support', memberRole: { $in: [...MANAGERS, 'visitor'] } } },
  {
    action: ['ban', 'mute', 'kick', 'reviewFlags'],
    subject: 'Moderation',
    conditions: { scope: 'channel', memberRole: { $in: MANAGERS } },
  },
  {
    roles: ['member', 'guest'],
    inverted: true,
    action: ['ban', 'mute', 'kick'],
    subject: 'Moderation',
    conditions: { targetMemberRole: { $in: MANAGERS } },
  },

  // Tenant moderators keep order in every channel they may read (not direct ones) and tenant-wide;
  // they do not rename, delete channels or change members.
  {
    roles: ['moderator'],
    action: 'update',
    subject: 'Channel',
    fields: ['frozen', 'slowModeSeconds'],
    conditions: { type: { $ne: 'direct' } },
  },
  { roles: ['moderator'], action: 'delete', subject: 'Message', conditions: { channelType: { $ne: 'direct' } } },
  { roles: ['moderator'], action: ['ban', 'mute', 'kick', 'reviewFlags'], subject: 'Moderation' },
  {
    roles: ['moderator', 'member', 'guest'],
    inverted: true,
    action: ['ban', 'mute', 'kick'],
    subject: 'Moderation',
    conditions: { targetRole: { $in: ['admin', 'moderator'] } },
  },

  // Tenant admins: everything but acting against another admin.
  { roles: ['admin'], action: 'update', subject: 'Channel' },
  { roles: ['admin'], action: ['add', 'remove'], subject: 'Member' },
  { roles: ['admin'], action: 'delete', subject: ['Channel', 'Message'] },
  { roles: ['admin'], action: 'end', subject: 'Channel', conditions: { type: 'support' } },
  { roles: ['admin'], action: 'manage', subject: 'Moderation' },
  {
    roles: ['admin'],
    inverted: true,
    action: ['ban', 'mute', 'kick'],
    subject: 'Moderation',
    conditions: { targetRole: 'admin' },
  },
] satisfies PolicyRule[]);

/** Why a final rule denies; the error each maps to is in `abilities.ts`. */
export type FinalReason = 'banned' | 'self' | 'ended' | 'frozen' | 'muted' | 'blocked' | 'slow-mode' | 'edit-window';

/** Which final reason wins when several apply: channel state first, then the actor's own. */
export const FINAL_PRECEDENCE: readonly FinalReason[] = [
  'banned',
  'self',
  'ended',
  'frozen',
  'muted',
  'blocked',
  'slow-mode',
  'edit-window',
];

type Raw = RawRuleOf<import('@casl/ability').MongoAbility>;
const deny = (
  reason: FinalReason,
  subject: SubjectName,
  action: string[],
  conditions: Record<string, unknown>,
): Raw => ({
  inverted: true,
  action,
  subject,
  conditions,
  reason: `natter:${reason}`,
});

/**
 * Rules appended after every policy. A banned user may do nothing in the channel but leave it;
 * nobody bans, mutes or kicks themselves, whatever a policy grants; writing stops in ended and
 * frozen channels and for muted users; a peer's block stops writing to them; slow mode spaces out
 * sends; edits stop `editWindow` seconds after sending (0: never).
 */
export function finalRules(editWindow: number): Raw[] {
  const channelWrites = ['send', 'typing'];
  const messageWrites = ['react', 'edit'];
  const rules: Raw[] = [
    deny('banned', 'Channel', ['create', 'read', 'send', 'typing', 'markRead', 'update', 'delete', 'end', 'join'], {
      banned: true,
    }),
    deny('banned', 'Message', ['edit', 'delete', 'react'], { banned: true }),
    deny('banned', 'Member', ['read', 'add', 'remove'], { banned: true }),
    deny('banned', 'Moderation', ['ban', 'mute', 'kick', 'flag', 'reviewFlags', 'readAudit'], { banned: true }),
    deny('self', 'Moderation', ['ban', 'mute', 'kick'], { targetIsSelf: true }),
    deny('ended', 'Channel', channelWrites, { ended: true }),
    deny('ended', 'Message', messageWrites, { ended: true }),
    deny('frozen', 'Channel', channelWrites, { frozen: true }),
    deny('frozen', 'Message', messageWrites, { frozen: true }),
    deny('muted', 'Channel', channelWrites, { muted: true }),
    deny('muted', 'Message', messageWrites, { muted: true }),
    deny('blocked', 'Channel', channelWrites, { blockedByPeer: true }),
    deny('blocked', 'Message', ['react'], { blockedByPeer: true }),
    deny('slow-mode', 'Channel', ['send'], { slowModeWait: { $gt: 0 } }),
  ];
  if (editWindow > 0) rules.push(deny('edit-window', 'Message', ['edit'], { ageSeconds: { $gt: editWindow } }));
  return rules;
}
