/**
 * Who may do what to a channel, its members and its messages: the service-facing face of the
 * abilities (`abilities.ts`). {@link decide} answers allowed / hidden / denied; {@link explain}
 * also says why, so callers can answer with the precise error (see `services/context.ts`).
 *
 * - hidden: the actor may not read the channel at all, and is told it does not exist (the same
 *   404 as a missing id). Restrictions never hide: the moderation rules are judged after this.
 * - A banned actor gets NATTER_USER_BANNED for every action in a channel they could otherwise
 *   read, reading included, except leaving it: they learn they are banned, nothing else.
 * - Otherwise a denial is the policy's (forbidden) or a final rule's (ended, frozen, muted,
 *   blocked, slow mode, edit window).
 *
 * @see docs/security.md
 */
import type { Channel, Member, Message, User } from '@natter/protocol';
import { type AppAbility, abilityFor, type Judgement, judge } from './abilities.js';
import type { FinalReason } from './abilities-defaults.js';
import { channelView, type ModerationTarget, memberView, messageView, moderationView } from './abilities-views.js';
import type { SubjectName } from './abilities-vocabulary.js';
import type { Actor } from './actor.js';
import { NO_RESTRICTIONS, type Restrictions } from './restrictions.js';

export type ChannelAction =
  | 'read'
  | 'send'
  | 'sendSystem'
  | 'typing'
  | 'react'
  | 'markRead'
  /** Change name or custom data (a PATCH is judged field by field, see `permittedChannelFields`). */
  | 'update'
  /** Change `frozen`. */
  | 'freeze'
  /** Change `slowModeSeconds`. */
  | 'slowMode'
  | 'delete'
  | 'end'
  | 'join'
  | 'leave'
  /** Add and remove other members. */
  | 'manageMembers'
  | 'addMembers'
  | 'removeMembers'
  | 'readMembers'
  | 'editMessage'
  | 'deleteMessage'
  // Moderation in this channel (the moderation service judges these with `target`).
  | 'ban'
  | 'mute'
  | 'kick'
  | 'flag'
  | 'reviewFlags';

export interface PolicyInput {
  actor: Actor;
  channel: Channel;
  /** The acting user's membership, null when not a member (or not a user). */
  member: Member | null;
  message?: Message;
  /** Moderation state of the actor here. @default NO_RESTRICTIONS */
  restrictions?: Restrictions;
  /** The actor's ability (with the tenant's policy). @default the default policy's */
  ability?: AppAbility;
  /** For moderation actions: the user acted against (and their membership of the channel). */
  target?: ModerationTarget | null;
  /** Now, in ms since the epoch, for message ages. @default Date.now() */
  now?: number;
}

/** `hidden`: the actor may not even see the channel; `denied`: may see it, not do this. */
export type Decision = 'allowed' | 'hidden' | 'denied';

export type DenialReason = 'hidden' | 'forbidden' | FinalReason;

export interface Verdict {
  decision: Decision;
  /** Null when allowed. */
  reason: DenialReason | null;
  /** A tenant rule's own `reason`, when one denied. */
  detail?: string;
  /** Seconds to wait, with `slow-mode`. */
  retryAfter?: number;
}

type Check = readonly [action: string, field?: string];
interface Spec {
  subject: SubjectName;
  checks: readonly Check[];
  /** `any`: one check allowing is enough; `all`: every check must allow. */
  mode: 'any' | 'all';
}

const one = (subject: SubjectName, action: string, field?: string): Spec => ({
  subject,
  checks: [field === undefined ? [action] : [action, field]],
  mode: 'all',
});

/** Each service action as CASL actions on a subject. */
const SPECS: Record<Exclude<ChannelAction, 'sendSystem'>, Spec> = {
  read: one('Channel', 'read'),
  send: one('Channel', 'send'),
  typing: one('Channel', 'typing'),
  react: one('Message', 'react'),
  markRead: one('Channel', 'markRead'),
  update: {
    subject: 'Channel',
    checks: [
      ['update', 'name'],
      ['update', 'custom'],
    ],
    mode: 'any',
  },
  freeze: one('Channel', 'update', 'frozen'),
  slowMode: one('Channel', 'update', 'slowModeSeconds'),
  delete: one('Channel', 'delete'),
  end: one('Channel', 'end'),
  join: one('Channel', 'join'),
  leave: one('Channel', 'leave'),
  manageMembers: { subject: 'Member', checks: [['add'], ['remove']], mode: 'all' },
  addMembers: one('Member', 'add'),
  removeMembers: one('Member', 'remove'),
  readMembers: one('Member', 'read'),
  editMessage: one('Message', 'edit'),
  deleteMessage: one('Message', 'delete'),
  ban: one('Moderation', 'ban'),
  mute: one('Moderation', 'mute'),
  kick: one('Moderation', 'kick'),
  flag: one('Moderation', 'flag'),
  reviewFlags: one('Moderation', 'reviewFlags'),
};

const ALLOWED: Verdict = Object.freeze({ decision: 'allowed', reason: null });
const HIDDEN: Verdict = Object.freeze({ decision: 'hidden', reason: 'hidden' });
const FORBIDDEN: Verdict = Object.freeze({ decision: 'denied', reason: 'forbidden' });

function viewFor(subject: SubjectName, input: PolicyInput, restrictions: Restrictions): object {
  const { channel, member } = input;
  const actorId = input.actor.kind === 'user' ? input.actor.user.id : null;
  switch (subject) {
    case 'Channel':
      return channelView(channel, member, restrictions);
    case 'Message':
      return messageView(channel, member, input.message, input.now ?? Date.now(), actorId, restrictions);
    case 'Member':
      return memberView(channel, member, restrictions);
    case 'Moderation':
      return moderationView(channel, member, input.target ?? null, actorId, restrictions);
  }
}

/** A denial's verdict from a judgement that did not allow. */
function denial(j: Judgement, restrictions: Restrictions): Verdict {
  if (!j.base) return j.baseReason ? { ...FORBIDDEN, detail: j.baseReason } : FORBIDDEN;
  const reason = j.final[0] as FinalReason;
  return reason === 'slow-mode'
    ? { decision: 'denied', reason, retryAfter: restrictions.slowModeWait }
    : { decision: 'denied', reason };
}

/** Decides `action` and says why when it is not allowed. */
export function explain(action: ChannelAction, input: PolicyInput): Verdict {
  const { actor } = input;
  if (actor.kind === 'server') return ALLOWED;
  if (actor.kind !== 'user') return HIDDEN;
  const ability = input.ability ?? abilityFor({ actor }).ability;
  const restrictions = input.restrictions ?? NO_RESTRICTIONS;
  const read = judge(ability, 'read', 'Channel', channelView(input.channel, input.member, restrictions));
  if (!read.base) return HIDDEN;
  if (read.final.includes('banned') && action !== 'leave') return { decision: 'denied', reason: 'banned' };
  // System messages are the backend's alone, whatever a policy says.
  if (action === 'sendSystem') return FORBIDDEN;
  const spec = SPECS[action];
  const view = viewFor(spec.subject, input, restrictions);
  const judgements = spec.checks.map(([a, field]) => judge(ability, a, spec.subject, view, field));
  const ok = spec.mode === 'any' ? judgements.some((j) => j.allowed) : judgements.every((j) => j.allowed);
  if (ok) return ALLOWED;
  const first =
    (spec.mode === 'any' ? judgements.find((j) => j.base) : undefined) ?? judgements.find((j) => !j.allowed);
  return denial(first as Judgement, restrictions);
}

/** Allowed, hidden (answer as if missing) or denied. Thin wrapper over {@link explain}. */
export function decide(action: ChannelAction, input: PolicyInput): Decision {
  return explain(action, input).decision;
}

/** Moderation actions without a channel (tenant-wide bans and mutes, flags, the audit log). */
export type TenantModerationAction = 'ban' | 'mute' | 'reviewFlags' | 'readAudit';

/** Decides a tenant-wide moderation action against `target` (null when there is none). */
export function explainTenantModeration(
  action: TenantModerationAction,
  input: { actor: Actor; ability?: AppAbility; target?: Pick<User, 'id' | 'role'> | null },
): Verdict {
  const { actor } = input;
  if (actor.kind === 'server') return ALLOWED;
  if (actor.kind !== 'user') return FORBIDDEN;
  const ability = input.ability ?? abilityFor({ actor }).ability;
  const target = input.target ? { user: input.target } : null;
  const j = judge(ability, action, 'Moderation', moderationView(null, null, target, actor.user.id));
  return j.allowed ? ALLOWED : denial(j, NO_RESTRICTIONS);
}
