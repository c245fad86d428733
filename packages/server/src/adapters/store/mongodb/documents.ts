/**
 * Documents as the MongoDB store keeps them, and their mapping to the models of the port.
 *
 * Conventions:
 * - Every tenant document carries `tenantId`, and its `_id` is a string key that starts with the
 *   tenant id ({@link docKey}): point reads are `{ _id: '<key>' }`, the one filter FerretDB v1
 *   pushes down to its SQLite tables, and the `_id` index doubles as the unique constraint.
 * - Free-form data given by users (`custom`, `attachments`, `encrypted`, tenant `settings`, event
 *   payloads) is stored as JSON text, as the SQLite store does: its keys never become field names,
 *   so a key like `$where` or `a.b` cannot reach the query language, and values round-trip exactly.
 * - Reaction counts are a sub-document keyed by the escaped reaction type ({@link fieldKey}), so a
 *   count moves with an atomic `$inc` on MongoDB.
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

export interface TenantDoc {
  _id: string;
  name: string;
  settings: string;
  signingSecret: string;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyDoc {
  _id: string;
  tenantId: string | null;
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface UserDoc {
  _id: string;
  tenantId: string;
  id: string;
  name: string | null;
  avatarUrl: string | null;
  role: UserRole;
  custom: string;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelDoc {
  _id: string;
  tenantId: string;
  id: string;
  type: ChannelType;
  name: string | null;
  custom: string;
  createdBy: string | null;
  directKey: string | null;
  /** Unique per tenant: `k<directKey>` for direct channels, `c<id>` otherwise (see {@link uniqueKeyOf}). */
  uniqueKey: string;
  /**
   * Newest message time, raised with `$max` after appends: only the sort key of "my channels".
   * The channel's `lastSeq`/`lastMessageAt` are read from the messages themselves.
   */
  activityAt: string | null;
  frozen: boolean;
  /** Absent on documents written before slow mode existed: 0. */
  slowModeSeconds?: number;
  endedAt: string | null;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface MemberDoc {
  _id: string;
  tenantId: string;
  channelId: string;
  userId: string;
  role: MemberRole;
  lastReadSeq: number;
  lastReadAt: string | null;
  joinedAt: string;
}

export interface MessageDoc {
  _id: string;
  tenantId: string;
  channelId: string;
  seq: number;
  id: string;
  clientMsgId: string | null;
  /** Unique per channel: the idempotency key, or the message id when there is none ({@link clientKeyOf}). */
  clientKey: string;
  authorId: string | null;
  parentId: string | null;
  type: MessageType;
  text: string | null;
  attachments: string;
  custom: string;
  encrypted: string | null;
  replyCount: number;
  reactionCounts: Record<string, number>;
  createdAt: string;
  updatedAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

export interface ReactionDoc {
  _id: string;
  tenantId: string;
  channelId: string;
  messageId: string;
  userId: string;
  type: string;
  createdAt: string;
}

export interface OutboxDoc {
  /** Allocated from the `outbox` counter: increasing in insertion order per store. */
  _id: number;
  tenantId: string;
  channelId: string | null;
  type: string;
  payload: string;
  createdAt: string;
  publishedAt: string | null;
  /** Token of the allocation that wrote it: tells our own earlier attempt from another node's id. */
  writer: string;
}

export interface CounterDoc {
  _id: string;
  n: number;
}

/** The `_id` of a tenant document: its key parts, tenant id first, as a JSON array string. */
export function docKey(tenantId: string, ...parts: string[]): string {
  return JSON.stringify([tenantId, ...parts]);
}

/** Two channels may not share it: a direct key, or the channel id itself when there is none. */
export function uniqueKeyOf(channelId: string, directKey: string | null): string {
  return directKey === null ? `c${channelId}` : `k${directKey}`;
}

/** One message per (author, clientMsgId); messages without one get their own id ("#" prefix). */
export function clientKeyOf(messageId: string, authorId: string | null, clientMsgId: string | null): string {
  return clientMsgId === null ? `#${messageId}` : `@${JSON.stringify([authorId, clientMsgId])}`;
}

/**
 * A reaction type as a field name: `%`, `.`, `$` and NUL are percent-escaped (a field path must
 * not contain `.`, start with `$` or hold NUL), and the empty type becomes `%`.
 */
export function fieldKey(type: string): string {
  if (type === '') return '%';
  return type.replace(/[%.$\0]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

export function fromFieldKey(key: string): string {
  if (key === '%') return '';
  return key.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toTenant(d: TenantDoc): TenantRecord {
  return {
    id: d._id,
    name: d.name,
    settings: json<TenantSettings>(d.settings),
    signingSecret: d.signingSecret,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function toApiKey(d: ApiKeyDoc): ApiKeyRecord {
  return { id: d._id, tenantId: d.tenantId, secretHash: d.secretHash, createdAt: d.createdAt, revokedAt: d.revokedAt };
}

export function toUser(d: UserDoc): User {
  return {
    id: d.id,
    name: d.name,
    avatarUrl: d.avatarUrl,
    role: d.role,
    custom: json<CustomData>(d.custom),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function userDoc(tenantId: string, u: User): UserDoc {
  return {
    _id: docKey(tenantId, u.id),
    tenantId,
    id: u.id,
    name: u.name,
    avatarUrl: u.avatarUrl,
    role: u.role,
    custom: JSON.stringify(u.custom),
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

/** The newest message of a channel, thread replies included: where `lastSeq` comes from. */
export interface ChannelHead {
  seq: number;
  createdAt: string;
}

/**
 * The channel as the port shows it: `lastSeq` and `lastMessageAt` come from the newest message
 * (`head`), and `updatedAt` is the later of the last edit and the last message, as the SQLite
 * store's append bumps it.
 */
export function toChannel(d: ChannelDoc, head: ChannelHead | null): Channel {
  const lastMessageAt = head?.createdAt ?? null;
  return {
    id: d.id,
    type: d.type,
    name: d.name,
    custom: json<CustomData>(d.custom),
    createdBy: d.createdBy,
    lastSeq: head?.seq ?? 0,
    lastMessageAt,
    frozen: d.frozen,
    slowModeSeconds: d.slowModeSeconds ?? 0,
    endedAt: d.endedAt,
    memberCount: d.memberCount,
    createdAt: d.createdAt,
    updatedAt: lastMessageAt !== null && lastMessageAt > d.updatedAt ? lastMessageAt : d.updatedAt,
  };
}

export function toMember(d: MemberDoc): Member {
  return {
    channelId: d.channelId,
    userId: d.userId,
    role: d.role,
    lastReadSeq: d.lastReadSeq,
    lastReadAt: d.lastReadAt,
    joinedAt: d.joinedAt,
  };
}

export function memberDoc(tenantId: string, m: Member): MemberDoc {
  return { _id: docKey(tenantId, m.channelId, m.userId), tenantId, ...m };
}

export function toMessage(d: MessageDoc): Message {
  const reactionCounts: Record<string, number> = {};
  for (const [k, n] of Object.entries(d.reactionCounts)) {
    if (n > 0) reactionCounts[fromFieldKey(k)] = n;
  }
  return {
    id: d.id,
    channelId: d.channelId,
    seq: d.seq,
    clientMsgId: d.clientMsgId,
    authorId: d.authorId,
    type: d.type,
    text: d.text,
    attachments: json<Attachment[]>(d.attachments),
    custom: json<CustomData>(d.custom),
    encrypted: d.encrypted === null ? null : json<EncryptedEnvelope>(d.encrypted),
    parentId: d.parentId,
    replyCount: d.replyCount,
    reactionCounts,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    editedAt: d.editedAt,
    deletedAt: d.deletedAt,
  };
}

export function messageDoc(tenantId: string, m: Message): MessageDoc {
  const reactionCounts: Record<string, number> = {};
  for (const [type, n] of Object.entries(m.reactionCounts)) reactionCounts[fieldKey(type)] = n;
  return {
    _id: docKey(tenantId, m.id),
    tenantId,
    channelId: m.channelId,
    seq: m.seq,
    id: m.id,
    clientMsgId: m.clientMsgId,
    clientKey: clientKeyOf(m.id, m.authorId, m.clientMsgId),
    authorId: m.authorId,
    parentId: m.parentId,
    type: m.type,
    text: m.text,
    attachments: JSON.stringify(m.attachments),
    custom: JSON.stringify(m.custom),
    encrypted: m.encrypted === null ? null : JSON.stringify(m.encrypted),
    replyCount: m.replyCount,
    reactionCounts,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
  };
}

export function toReaction(d: ReactionDoc): Reaction {
  return { messageId: d.messageId, userId: d.userId, type: d.type, createdAt: d.createdAt };
}

export function toOutboxEvent(d: OutboxDoc): OutboxEvent {
  // Written from an EventInput, so type and payload belong together; the document cannot carry
  // that correlation, hence the assertion.
  return {
    id: d._id,
    tenantId: d.tenantId,
    channelId: d.channelId,
    type: d.type,
    payload: json<unknown>(d.payload),
    createdAt: d.createdAt,
  } as OutboxEvent;
}
