/**
 * Subject views: the plain objects rule conditions are evaluated on. A view holds what the rules
 * may test (see `abilities-vocabulary.ts`) and nothing else, built the same way for every caller,
 * so a client building the same view from the same channel gets the same answer.
 *
 * @see docs/security.md#subject-views
 */
import type { Channel, ChannelType, CustomData, Member, MemberRole, Message, User, UserRole } from '@natter/protocol';
import { NO_RESTRICTIONS, type Restrictions } from './restrictions.js';

export interface ChannelView {
  id: string;
  type: ChannelType;
  createdBy: string | null;
  frozen: boolean;
  ended: boolean;
  custom: CustomData;
  isMember: boolean;
  memberRole: MemberRole | null;
  banned: boolean;
  muted: boolean;
  blockedByPeer: boolean;
  slowModeWait: number;
}

export interface MessageView {
  id: string;
  channelId: string;
  channelType: ChannelType;
  authorId: string | null;
  /** The acting user wrote the message. */
  isAuthor: boolean;
  type: Message['type'];
  parentId: string | null;
  /** Whole seconds since the message was sent. */
  ageSeconds: number;
  custom: CustomData;
  frozen: boolean;
  ended: boolean;
  isMember: boolean;
  memberRole: MemberRole | null;
  banned: boolean;
  muted: boolean;
  blockedByPeer: boolean;
}

export interface MemberView {
  channelId: string;
  channelType: ChannelType;
  isMember: boolean;
  memberRole: MemberRole | null;
  banned: boolean;
}

export interface ModerationView {
  scope: 'tenant' | 'channel';
  channelId: string | null;
  channelType: ChannelType | null;
  isMember: boolean;
  memberRole: MemberRole | null;
  targetId: string | null;
  /** The target is the acting user. */
  targetIsSelf: boolean;
  targetRole: UserRole | null;
  targetMemberRole: MemberRole | null;
  banned: boolean;
}

/** The view of a channel for an actor with `member` (null: not a member) and `restrictions`. */
export function channelView(
  channel: Channel,
  member: Member | null,
  restrictions: Restrictions = NO_RESTRICTIONS,
): ChannelView {
  return {
    id: channel.id,
    type: channel.type,
    createdBy: channel.createdBy,
    frozen: channel.frozen,
    ended: channel.endedAt !== null,
    custom: channel.custom,
    isMember: member !== null,
    memberRole: member?.role ?? null,
    banned: restrictions.banned,
    muted: restrictions.muted,
    blockedByPeer: restrictions.blockedByPeer,
    slowModeWait: restrictions.slowModeWait,
  };
}

/**
 * The view of a message in its channel for the acting user `actorId` (null: not a user). Without
 * a message (an action asked about the channel alone) the message fields are empty: no author,
 * age 0.
 */
export function messageView(
  channel: Channel,
  member: Member | null,
  message: Message | undefined,
  now: number,
  actorId: string | null,
  restrictions: Restrictions = NO_RESTRICTIONS,
): MessageView {
  const sentAt = message ? Date.parse(message.createdAt) : now;
  return {
    id: message?.id ?? '',
    channelId: channel.id,
    channelType: channel.type,
    authorId: message?.authorId ?? null,
    isAuthor: actorId !== null && message?.authorId === actorId,
    type: message?.type ?? 'regular',
    parentId: message?.parentId ?? null,
    ageSeconds: Math.max(0, Math.floor((now - sentAt) / 1000)),
    custom: message?.custom ?? {},
    frozen: channel.frozen,
    ended: channel.endedAt !== null,
    isMember: member !== null,
    memberRole: member?.role ?? null,
    banned: restrictions.banned,
    muted: restrictions.muted,
    blockedByPeer: restrictions.blockedByPeer,
  };
}

/** The view of a channel's member list (adding, removing, listing). */
export function memberView(
  channel: Channel,
  member: Member | null,
  restrictions: Restrictions = NO_RESTRICTIONS,
): MemberView {
  return {
    channelId: channel.id,
    channelType: channel.type,
    isMember: member !== null,
    memberRole: member?.role ?? null,
    banned: restrictions.banned,
  };
}

/** Who a moderation action is against: the user, and their membership of the channel if any. */
export interface ModerationTarget {
  user: Pick<User, 'id' | 'role'>;
  member?: Pick<Member, 'role'> | null;
}

/**
 * The view of a moderation action by the acting user `actorId` (null: not a user), tenant-wide
 * (no channel) or in a channel, against `target`.
 */
export function moderationView(
  channel: Channel | null,
  member: Member | null,
  target: ModerationTarget | null,
  actorId: string | null,
  restrictions: Restrictions = NO_RESTRICTIONS,
): ModerationView {
  return {
    scope: channel ? 'channel' : 'tenant',
    channelId: channel?.id ?? null,
    channelType: channel?.type ?? null,
    isMember: member !== null,
    memberRole: member?.role ?? null,
    targetId: target?.user.id ?? null,
    targetIsSelf: actorId !== null && target?.user.id === actorId,
    targetRole: target?.user.role ?? null,
    targetMemberRole: (channel && target?.member?.role) || null,
    banned: restrictions.banned,
  };
}
