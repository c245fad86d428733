/**
 * Who may do what to a channel and its messages. Pure: decides from the actor, the channel, the
 * actor's membership and (for message actions) the message. The CASL-based policy of the
 * authorization issue replaces this table; callers go through {@link decide} either way.
 *
 * A user who may not read a channel is told it does not exist (the same 404 as a missing id).
 */
import type { Channel, Member, Message } from '@natter/protocol';
import type { Actor } from './actor.js';
import type { Restrictions } from './restrictions.js';

export type ChannelAction =
  | 'read'
  | 'send'
  | 'sendSystem'
  | 'react'
  | 'markRead'
  | 'update'
  | 'freeze'
  | 'delete'
  | 'end'
  | 'join'
  | 'leave'
  | 'manageMembers'
  | 'editMessage'
  | 'deleteMessage';

export interface PolicyInput {
  actor: Actor;
  channel: Channel;
  /** The acting user's membership, null when not a member (or not a user). */
  member: Member | null;
  message?: Message;
  /** Moderation state of the actor here. @default NO_RESTRICTIONS */
  restrictions?: Restrictions;
}

/** `hidden`: the actor may not even see the channel; `denied`: may see it, not do this. */
export type Decision = 'allowed' | 'hidden' | 'denied';

const MANAGER_ROLES = new Set(['owner', 'moderator', 'agent']);

function canRead({ actor, channel, member }: PolicyInput): boolean {
  if (actor.kind === 'server') return true;
  if (actor.kind !== 'user') return false;
  if (member) return true;
  if (channel.type === 'public') return true;
  return actor.user.role === 'admin';
}

export function decide(action: ChannelAction, input: PolicyInput): Decision {
  const { actor, channel, member, message } = input;
  if (!canRead(input)) return 'hidden';
  if (actor.kind === 'server') return 'allowed';
  if (actor.kind !== 'user') return 'hidden';
  const tenantAdmin = actor.user.role === 'admin';
  const manager = tenantAdmin || (member !== null && MANAGER_ROLES.has(member.role));
  const isMember = member !== null;
  const allowed = (() => {
    switch (action) {
      case 'read':
        return true;
      case 'send':
        // Public channels are broadcast: their managers post, everyone reads.
        return channel.type === 'public' ? isMember && manager : isMember;
      case 'react':
      case 'markRead':
        return isMember;
      case 'sendSystem':
        return false;
      case 'update':
      case 'freeze':
      case 'manageMembers':
        return manager;
      case 'delete':
        return tenantAdmin || member?.role === 'owner';
      case 'end':
        return channel.type === 'support' && (manager || member?.role === 'visitor');
      case 'join':
        return channel.type === 'public';
      case 'leave':
        return isMember;
      case 'editMessage':
        return message !== undefined && message.authorId === actor.user.id;
      case 'deleteMessage':
        return message !== undefined && (message.authorId === actor.user.id || manager);
    }
  })();
  return allowed ? 'allowed' : 'denied';
}
