/**
 * The resources as they travel on the wire (REST bodies and realtime frames).
 *
 * Times are ISO-8601 strings. Ids are strings chosen by the tenant (users, channels) or by the
 * server (messages). Custom data is a JSON object bounded in size by the server.
 *
 * @see docs/rest.md
 */

/** Custom fields on users, channels and messages. Extend by module augmentation. */
export type CustomData = Record<string, unknown>;

export type UserRole = 'admin' | 'moderator' | 'member' | 'guest';

export interface User {
  id: string;
  name: string | null;
  avatarUrl: string | null;
  role: UserRole;
  custom: CustomData;
  createdAt: string;
  updatedAt: string;
}

/**
 * - `direct`: exactly two members, unique per pair.
 * - `group`: a named set of members.
 * - `public`: broadcast, read-mostly; any user of the tenant may read and join.
 * - `support`: a visitor and agents; can be ended.
 */
export type ChannelType = 'direct' | 'group' | 'public' | 'support';
export const CHANNEL_TYPES: readonly ChannelType[] = ['direct', 'group', 'public', 'support'];

export type MemberRole = 'owner' | 'moderator' | 'member' | 'visitor' | 'agent';
export const MEMBER_ROLES: readonly MemberRole[] = ['owner', 'moderator', 'member', 'visitor', 'agent'];

export interface Channel {
  id: string;
  type: ChannelType;
  name: string | null;
  custom: CustomData;
  createdBy: string | null;
  /** Sequence number of the newest message; 0 when empty. */
  lastSeq: number;
  lastMessageAt: string | null;
  frozen: boolean;
  /**
   * Slow mode: seconds a member must wait between two messages in this channel (channel managers
   * and tenant staff are exempt). 0 turns it off.
   * @default 0
   * @see docs/moderation.md
   */
  slowModeSeconds: number;
  endedAt: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface Member {
  channelId: string;
  userId: string;
  role: MemberRole;
  /** Highest sequence number this member has read. */
  lastReadSeq: number;
  lastReadAt: string | null;
  joinedAt: string;
}

export interface Attachment {
  type: string;
  url: string;
  name?: string;
  mimeType?: string;
  size?: number;
  width?: number;
  height?: number;
}

/**
 * An end-to-end encrypted body. The server stores and delivers it as opaque data and never needs
 * to read it.
 */
export interface EncryptedEnvelope {
  /** Algorithm label chosen by the clients, e.g. `x25519-xsalsa20-poly1305`. */
  alg: string;
  /** Base64 ciphertext. */
  ciphertext: string;
  /** Base64 nonce. */
  nonce?: string;
  /** Key identifier the recipients use to find the key. */
  keyId?: string;
}

export type MessageType = 'regular' | 'system' | 'deleted';

export interface Message {
  id: string;
  channelId: string;
  /** Per-channel sequence number: gap-free, starting at 1. */
  seq: number;
  clientMsgId: string | null;
  authorId: string | null;
  type: MessageType;
  text: string | null;
  attachments: Attachment[];
  custom: CustomData;
  encrypted: EncryptedEnvelope | null;
  /** Thread parent; null for channel-level messages. */
  parentId: string | null;
  replyCount: number;
  /** Reaction type → count. */
  reactionCounts: Record<string, number>;
  createdAt: string;
  updatedAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface Reaction {
  messageId: string;
  userId: string;
  type: string;
  createdAt: string;
}

/** One entry of "my channels". */
export interface ChannelSummary {
  channel: Channel;
  membership: Member;
  unreadCount: number;
  lastMessage: Message | null;
}
