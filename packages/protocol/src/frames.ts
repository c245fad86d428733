/**
 * Realtime frames: JSON text frames over one WebSocket at `/v1/realtime`.
 *
 * The client sends request frames, each with an `id` (a positive integer it chooses, unique among
 * its pending requests); the server answers every one with a `reply` or an `error` frame carrying
 * the same `id`. The server pushes `event` frames for the channels the connection subscribed to.
 *
 * @see docs/protocol.md
 */
import type { CompactMessage } from './compact.js';
import type { ErrorBody } from './errors.js';
import type { Attachment, Channel, CustomData, EncryptedEnvelope, Member, Message, Reaction, User } from './models.js';

/** Wire protocol version, sent in `welcome`. A breaking change bumps it. */
export const PROTOCOL_VERSION = 1;

/** Path of the realtime endpoint. */
export const REALTIME_PATH = '/v1/realtime';

/** WebSocket subprotocol that carries the protocol version. */
export const SUBPROTOCOL = 'natter.v1';

/**
 * Close codes the server uses. The client reconnects after every one except
 * `TOKEN_INVALID`/`FORBIDDEN` (which need new credentials first).
 */
export const CloseCode = {
  /** Normal closure (client asked, or server shutting down with 1001). */
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** A frame exceeded the maximum frame size. */
  FRAME_TOO_LARGE: 1009,
  /** The token expired while connected: get a new one and reconnect. */
  TOKEN_EXPIRED: 4001,
  /** The user or tenant was deleted, or the token no longer verifies. */
  TOKEN_INVALID: 4003,
  /** The connection did not read fast enough; reconnect and recover by sequence. */
  SLOW_CONSUMER: 4008,
  /** Too many frames after warnings. Back off before reconnecting. */
  RATE_LIMITED: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

// ---------------------------------------------------------------------------------------------
// Client → server

interface Req<T extends string> {
  id: number;
  type: T;
}

export interface MessageBody {
  text?: string;
  attachments?: Attachment[];
  custom?: CustomData;
  encrypted?: EncryptedEnvelope;
}

export type ClientFrame =
  /** Start receiving a channel's events. With `since`, replays messages with seq > since first. */
  | (Req<'subscribe'> & { channelId: string; since?: number })
  | (Req<'unsubscribe'> & { channelId: string })
  | (Req<'message.send'> & MessageBody & { channelId: string; clientMsgId?: string; parentId?: string })
  | (Req<'message.edit'> & MessageBody & { channelId: string; messageId: string })
  | (Req<'message.delete'> & { channelId: string; messageId: string })
  | (Req<'reaction.add'> & { channelId: string; messageId: string; reaction: string })
  | (Req<'reaction.remove'> & { channelId: string; messageId: string; reaction: string })
  | (Req<'typing.start'> & { channelId: string })
  | (Req<'typing.stop'> & { channelId: string })
  | (Req<'read'> & { channelId: string; seq?: number })
  /** Follow users' online state; the reply holds their current state. */
  | (Req<'presence.subscribe'> & { userIds: string[] })
  | (Req<'presence.unsubscribe'> & { userIds: string[] })
  | Req<'ping'>;

export type ClientFrameType = ClientFrame['type'];

export const CLIENT_FRAME_TYPES: readonly ClientFrameType[] = [
  'subscribe',
  'unsubscribe',
  'message.send',
  'message.edit',
  'message.delete',
  'reaction.add',
  'reaction.remove',
  'typing.start',
  'typing.stop',
  'read',
  'presence.subscribe',
  'presence.unsubscribe',
  'ping',
];

/** What a `reply` carries, per request type. */
export interface ReplyResults {
  subscribe: SubscribeResult;
  unsubscribe: Record<string, never>;
  'message.send': { message: Message; created: boolean };
  'message.edit': { message: Message };
  'message.delete': { message: Message };
  'reaction.add': { message: Message };
  'reaction.remove': { message: Message };
  'typing.start': Record<string, never>;
  'typing.stop': Record<string, never>;
  read: { member: Member };
  'presence.subscribe': { presence: PresenceState[] };
  'presence.unsubscribe': Record<string, never>;
  ping: { time: string };
}

export interface SubscribeResult {
  channel: Channel;
  /**
   * - `not_requested`: no `since` was sent; `messages` is empty.
   * - `recovered`: `messages` holds every message (replies too) with seq > since, ascending.
   * - `too_far`: more than the server replays were missed; `messages` is empty: refetch over REST.
   */
  recovery: 'not_requested' | 'recovered' | 'too_far';
  messages: Message[];
}

export interface PresenceState {
  userId: string;
  online: boolean;
}

// ---------------------------------------------------------------------------------------------
// Server → client

/**
 * The `data` of each event frame. Message events carry the message in its compact form (fields at
 * their default left out); `expandMessage` gives the whole message back.
 */
export interface EventData {
  'message.new': { message: CompactMessage };
  'message.updated': { message: CompactMessage };
  'message.deleted': { message: CompactMessage };
  'reaction.added': { message: CompactMessage; reaction: Reaction };
  'reaction.removed': { message: CompactMessage; reaction: Reaction };
  'typing.start': { userId: string };
  'typing.stop': { userId: string };
  'read.updated': { member: Member };
  'member.added': { members: Member[] };
  'member.removed': { userIds: string[] };
  'channel.updated': { channel: Channel };
  'channel.ended': { channel: Channel };
  'channel.deleted': { channel: Channel };
  'presence.changed': PresenceState;
  /** The server ended this subscription (membership removed, channel deleted, user banned). */
  'subscription.ended': { reason: SubscriptionEndReason };
  /**
   * Moderation notices, sent only to the connections of the user concerned. `channelId` (also in
   * the data) is null for tenant-wide bans and mutes. A ban also ends the affected subscriptions.
   * @see docs/moderation.md
   */
  'moderation.banned': ModerationNotice;
  'moderation.unbanned': ModerationNotice;
  'moderation.muted': ModerationNotice;
  'moderation.unmuted': ModerationNotice;
  /**
   * The connection's authorization rules changed (the user's role or attributes, or the tenant's
   * policy): replace the rules of `welcome` with these. Has no `channelId`.
   */
  'rules.updated': { rules: PackedRule[] };
}

/** Why the server ended a subscription: the code a new subscribe would now fail with. */
export type SubscriptionEndReason = 'NATTER_CHANNEL_NOT_FOUND' | 'NATTER_MEMBER_NOT_FOUND' | 'NATTER_USER_BANNED';

/** What a banned or muted user is told (never who did it). */
export interface ModerationNotice {
  /** The channel it applies to; null: the whole tenant. */
  channelId: string | null;
  reason: string | null;
  /** When it lifts by itself; null: until lifted. */
  expiresAt: string | null;
}

/**
 * One authorization rule, packed as CASL's `packRules` packs it:
 * `[actions, subjects, conditions | 0, inverted (1 | 0), fields | 0, reason]`, with lists joined
 * by commas and trailing defaults left out. `unpackRules` from `@casl/ability/extra` turns a list
 * back into rules for `createMongoAbility`. Conditions test the subject views described in
 * docs/security.md; the server already filled the user's own values in.
 */
export type PackedRule =
  | [actions: string, subjects: string]
  | [actions: string, subjects: string, conditions: Record<string, unknown> | 0]
  | [actions: string, subjects: string, conditions: Record<string, unknown> | 0, inverted: 0 | 1]
  | [actions: string, subjects: string, conditions: Record<string, unknown> | 0, inverted: 0 | 1, fields: string | 0]
  | [
      actions: string,
      subjects: string,
      conditions: Record<string, unknown> | 0,
      inverted: 0 | 1,
      fields: string | 0,
      reason: string,
    ];

export type EventName = keyof EventData;

export type EventFrame = {
  [K in EventName]: {
    type: 'event';
    event: K;
    /** Channel of the event; absent for presence. */
    channelId?: string;
    /** For message.new: the message's sequence number, for gap detection. */
    seq?: number;
    data: EventData[K];
  };
}[EventName];

export type ServerFrame =
  | {
      type: 'welcome';
      v: number;
      connectionId: string;
      user: User;
      /** Seconds of silence after which the server considers the connection dead. */
      idleTimeout: number;
      limits: { maxFrameBytes: number; framesPerSecond: number; replayMax: number };
      /** What this user may do, as packed CASL rules (see {@link PackedRule}); `rules.updated` replaces them. */
      rules: PackedRule[];
    }
  | { type: 'reply'; id: number; result: ReplyResults[ClientFrameType] }
  | { type: 'error'; id: number | null; error: ErrorBody }
  | EventFrame;
