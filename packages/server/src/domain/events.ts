/**
 * Domain events: what happened, as stored in the outbox and published on the bus.
 *
 * Events of a channel carry its id so that brokers can partition by channel and keep per-channel
 * order. The outbox id is global and increasing per store; consumers use it to drop redeliveries.
 */
import type { Channel, Member, Message, Reaction, User } from '@natter/protocol';
import type { Flag, Sanction } from '../ports/store.js';

export interface EventPayloads {
  'message.new': { message: Message };
  'message.updated': { message: Message };
  'message.deleted': { message: Message };
  'reaction.added': { message: Message; reaction: Reaction };
  'reaction.removed': { message: Message; reaction: Reaction };
  'channel.created': { channel: Channel };
  'channel.updated': { channel: Channel };
  'channel.deleted': { channel: Channel };
  'channel.ended': { channel: Channel };
  'member.added': { channel: Channel; members: Member[] };
  'member.removed': { channel: Channel; userIds: string[] };
  'read.updated': { member: Member };
  'user.updated': { users: User[] };
  'user.deleted': { user: User };
  /**
   * Moderation (channel id: the sanction's channel, null when tenant-wide). Not broadcast to the
   * channel: the realtime gateway tells the user concerned and ends a banned user's subscriptions.
   */
  'moderation.banned': { sanction: Sanction };
  'moderation.unbanned': { sanction: Sanction };
  'moderation.muted': { sanction: Sanction };
  'moderation.unmuted': { sanction: Sanction };
  /** A message was reported, or reports were resolved: for the moderators' tools, never broadcast. */
  'message.flagged': { flag: Flag };
  'flag.resolved': { flags: Flag[] };
}

export type EventType = keyof EventPayloads;

/** An event before it is stored. */
export type EventInput = {
  [K in EventType]: { type: K; channelId: string | null; payload: EventPayloads[K] };
}[EventType];

/** An event as stored in the outbox. */
export type OutboxEvent = EventInput & {
  id: number;
  tenantId: string;
  createdAt: string;
};

/** Builds one typed event. */
export function event<K extends EventType>(type: K, channelId: string | null, payload: EventPayloads[K]): EventInput {
  return { type, channelId, payload } as EventInput;
}
