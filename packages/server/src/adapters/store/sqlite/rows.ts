/**
 * Rows as SQLite returns them, and their mapping to the models of the port.
 *
 * Column names are snake_case; JSON fields are TEXT; booleans are 0/1 integers.
 */
import type {
  Attachment,
  Channel,
  ChannelType,
  CustomData,
  EncryptedEnvelope,
  Member,
  MemberRole,
  Message,
  MessageType,
  Reaction,
  User,
  UserRole,
} from '@natter/protocol';
import type { OutboxEvent } from '../../../domain/events.js';
import type { ApiKeyRecord, TenantRecord, TenantSettings } from '../../../ports/store.js';

export interface TenantRow {
  id: string;
  name: string;
  settings: string;
  signing_secret: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeyRow {
  id: string;
  tenant_id: string | null;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface UserRow {
  id: string;
  name: string | null;
  avatar_url: string | null;
  role: UserRole;
  custom: string;
  created_at: string;
  updated_at: string;
}

export interface ChannelRow {
  id: string;
  type: ChannelType;
  name: string | null;
  custom: string;
  created_by: string | null;
  direct_key: string | null;
  last_seq: number;
  last_message_at: string | null;
  frozen: number;
  slow_mode_seconds: number;
  ended_at: string | null;
  member_count: number;
  created_at: string;
  updated_at: string;
}

export interface MemberRow {
  channel_id: string;
  user_id: string;
  role: MemberRole;
  last_read_seq: number;
  last_read_at: string | null;
  joined_at: string;
}

export interface MessageRow {
  id: string;
  channel_id: string;
  seq: number;
  client_msg_id: string | null;
  author_id: string | null;
  parent_id: string | null;
  type: MessageType;
  text: string | null;
  attachments: string;
  custom: string;
  encrypted: string | null;
  reply_count: number;
  reaction_counts: string;
  created_at: string;
  updated_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

export interface ReactionRow {
  message_id: string;
  user_id: string;
  type: string;
  created_at: string;
}

export interface OutboxRow {
  id: number;
  tenant_id: string;
  channel_id: string | null;
  type: string;
  payload: string;
  created_at: string;
}

/** Columns selected for a message; kept in one place so every query maps the same way. */
export const MESSAGE_COLUMNS = `id, channel_id, seq, client_msg_id, author_id, parent_id, type, text,
  attachments, custom, encrypted, reply_count, reaction_counts, created_at, updated_at, edited_at,
  deleted_at`;

export const CHANNEL_COLUMNS = `id, type, name, custom, created_by, direct_key, last_seq,
  last_message_at, frozen, slow_mode_seconds, ended_at, member_count, created_at, updated_at`;

export const MEMBER_COLUMNS = 'channel_id, user_id, role, last_read_seq, last_read_at, joined_at';

/** Parses a JSON column written by this store (so its shape is the one we stored). */
function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toTenant(r: TenantRow): TenantRecord {
  return {
    id: r.id,
    name: r.name,
    settings: json<TenantSettings>(r.settings),
    signingSecret: r.signing_secret,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toApiKey(r: ApiKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    avatarUrl: r.avatar_url,
    role: r.role,
    custom: json<CustomData>(r.custom),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The key of a channel in `SqliteContext.memo` (`getChannel`; kept current by `appendMessage`). */
export function channelMemoKey(tenantId: string, id: string): string {
  return `channel\u0000${tenantId}\u0000${id}`;
}

export function toChannel(r: ChannelRow): Channel {
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    custom: json<CustomData>(r.custom),
    createdBy: r.created_by,
    lastSeq: r.last_seq,
    lastMessageAt: r.last_message_at,
    frozen: r.frozen !== 0,
    slowModeSeconds: r.slow_mode_seconds,
    endedAt: r.ended_at,
    memberCount: r.member_count,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toMember(r: MemberRow): Member {
  return {
    channelId: r.channel_id,
    userId: r.user_id,
    role: r.role,
    lastReadSeq: r.last_read_seq,
    lastReadAt: r.last_read_at,
    joinedAt: r.joined_at,
  };
}

export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    channelId: r.channel_id,
    seq: r.seq,
    clientMsgId: r.client_msg_id,
    authorId: r.author_id,
    type: r.type,
    text: r.text,
    attachments: json<Attachment[]>(r.attachments),
    custom: json<CustomData>(r.custom),
    encrypted: r.encrypted === null ? null : json<EncryptedEnvelope>(r.encrypted),
    parentId: r.parent_id,
    replyCount: r.reply_count,
    reactionCounts: json<Record<string, number>>(r.reaction_counts),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
  };
}

export function toReaction(r: ReactionRow): Reaction {
  return { messageId: r.message_id, userId: r.user_id, type: r.type, createdAt: r.created_at };
}

export function toOutboxEvent(r: OutboxRow): OutboxEvent {
  // The row was written from an EventInput, so type and payload belong together; SQL cannot
  // carry that correlation, hence the assertion.
  return {
    id: r.id,
    tenantId: r.tenant_id,
    channelId: r.channel_id,
    type: r.type,
    payload: json<unknown>(r.payload),
    createdAt: r.created_at,
  } as OutboxEvent;
}
