/**
 * The store port: durable state of every tenant.
 *
 * Tenant data is reachable only through {@link Store.tenant}, which returns a handle bound to one
 * tenant id; no method of that handle takes a tenant id, so no query can be written without it.
 * Every mutation that other parts of the system must hear about takes an `events` callback, run
 * inside the same atomic write, whose result is appended to the outbox: a write and its events are
 * stored together or not at all.
 *
 * Adapters: `adapters/store/sqlite/` (embedded default). Every adapter passes
 * `test/contracts/store.contract.ts`.
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
import type { TenantPolicy } from '../domain/abilities-policy.js';
import type { EventInput, OutboxEvent } from '../domain/events.js';

export interface Store {
  /** Adapter name, e.g. `sqlite`. */
  readonly name: string;
  /** Platform-wide records: tenants and API keys. */
  readonly platform: PlatformStore;
  /** The outbox, read by the relay that publishes events to the bus. */
  readonly outbox: OutboxStore;
  /** A handle on one tenant's data. Does not check that the tenant exists. */
  tenant(tenantId: string): TenantStore;
  /** Throws when the store cannot serve requests (used by `/health/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Platform

export interface TenantSettings {
  /** Origins allowed to open realtime connections; empty means any. */
  allowedOrigins: string[];
  /** Overrides the server-wide message text limit for this tenant. */
  maxMessageLength?: number;
  /** Overrides the server-wide rate limits for this tenant (requests + write frames per second). */
  rateLimits?: { userPerSecond?: number; tenantPerSecond?: number };
  /** The tenant's own authorization rules (`PUT /v1/policy`); absent: the default policy. */
  policy?: TenantPolicy;
}

export interface TenantRecord {
  id: string;
  name: string;
  settings: TenantSettings;
  /** HS256 secret (base64url) that signs this tenant's user tokens. Never leaves the server. */
  signingSecret: string;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyRecord {
  /** Public key id, sent with the secret. */
  id: string;
  /** Null for platform-admin keys. */
  tenantId: string | null;
  /** Hash of the secret; the secret itself is never stored. */
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page; null at the end. */
  next: string | null;
}

export interface PlatformStore {
  /** Creates a tenant; throws StoreConflictError when the id exists. */
  createTenant(input: Omit<TenantRecord, 'createdAt' | 'updatedAt'>): Promise<TenantRecord>;
  getTenant(id: string): Promise<TenantRecord | null>;
  listTenants(opts: { limit: number; after?: string }): Promise<Page<TenantRecord>>;
  updateTenant(id: string, patch: Partial<Pick<TenantRecord, 'name' | 'settings'>>): Promise<TenantRecord | null>;
  /** Deletes the tenant and everything it owns. Returns false when it did not exist. */
  deleteTenant(id: string): Promise<boolean>;

  createApiKey(input: Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>): Promise<ApiKeyRecord>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  /** Keys of a tenant (or the platform keys when tenantId is null), newest first. */
  listApiKeys(tenantId: string | null): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked. Returns false when no such key belongs to that tenant. */
  revokeApiKey(tenantId: string | null, id: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Tenant

export interface UserInput {
  id: string;
  name?: string | null;
  avatarUrl?: string | null;
  role?: UserRole;
  custom?: CustomData;
}

export interface ChannelInput {
  id: string;
  type: ChannelType;
  name?: string | null;
  custom?: CustomData;
  createdBy?: string | null;
  /** For `direct` channels: the sorted pair key that keeps one channel per pair. */
  directKey?: string | null;
  members: { userId: string; role: MemberRole }[];
}

export interface ChannelPatch {
  name?: string | null;
  custom?: CustomData;
  frozen?: boolean;
  endedAt?: string | null;
  /** Slow mode interval in seconds; 0 turns it off. */
  slowModeSeconds?: number;
}

export interface MessageInput {
  /** Server-generated id. */
  id: string;
  channelId: string;
  clientMsgId?: string | null;
  authorId: string | null;
  type: MessageType;
  text?: string | null;
  attachments?: Attachment[];
  custom?: CustomData;
  encrypted?: EncryptedEnvelope | null;
  parentId?: string | null;
  createdAt: string;
}

export interface MessagePatch {
  text?: string | null;
  attachments?: Attachment[];
  custom?: CustomData;
  encrypted?: EncryptedEnvelope | null;
  updatedAt: string;
}

export interface HistoryQuery {
  /** Messages with seq < before (newest first up to limit, returned ascending). */
  before?: number;
  /** Messages with seq > after (returned ascending). */
  after?: number;
  limit: number;
  /** Thread replies of this parent instead of channel-level messages. */
  parentId?: string;
  /** Include thread replies in channel history (recovery wants every seq). @default false */
  includeReplies?: boolean;
}

export interface MyChannel {
  channel: Channel;
  membership: Member;
  unreadCount: number;
  lastMessage: Message | null;
}

/**
 * Builds the events of a write from what was written; runs inside the write's atomic unit. Not
 * called when the call changed nothing (a repeated clientMsgId or reaction, a lower read mark,
 * no member added or removed, a missing record). It may run more than once when an adapter
 * retries the write, so it must only build events, with no side effects.
 */
export type Emit<T> = (result: T) => EventInput[];

export interface AppendResult {
  message: Message;
  /** False when the client message id matched an earlier message, which is returned instead. */
  created: boolean;
}

export interface TenantStore {
  readonly tenantId: string;

  // Users
  /** Creates or updates users; fields left out keep their stored value. */
  upsertUsers(users: UserInput[], emit?: Emit<User[]>): Promise<User[]>;
  getUser(id: string): Promise<User | null>;
  getUsers(ids: string[]): Promise<User[]>;
  listUsers(opts: { limit: number; after?: string }): Promise<Page<User>>;
  /** Deletes the user and their memberships; their messages stay. */
  deleteUser(id: string, emit?: Emit<User>): Promise<boolean>;

  // Channels
  /** Creates a channel with its members; throws StoreConflictError on an existing id or directKey. */
  createChannel(input: ChannelInput, createdAt: string, emit?: Emit<Channel>): Promise<Channel>;
  getChannel(id: string): Promise<Channel | null>;
  findDirectChannel(directKey: string): Promise<Channel | null>;
  updateChannel(id: string, patch: ChannelPatch, emit?: Emit<Channel>): Promise<Channel | null>;
  /** Deletes the channel with its members, messages, reactions, and its bans, mutes and flags. */
  deleteChannel(id: string, emit?: Emit<Channel>): Promise<boolean>;
  /** Channels of a user with unread counts (messages of others after lastReadSeq) and last message. */
  listMyChannels(userId: string, opts: { limit: number; after?: string }): Promise<Page<MyChannel>>;
  /** Public channels, for discovery. */
  listPublicChannels(opts: { limit: number; after?: string }): Promise<Page<Channel>>;

  // Members
  /** Adds members (existing members keep their row). Returns the members that were added. */
  addMembers(
    channelId: string,
    members: { userId: string; role: MemberRole }[],
    joinedAt: string,
    emit?: Emit<Member[]>,
  ): Promise<Member[]>;
  /** Removes members; returns the user ids that were removed. */
  removeMembers(channelId: string, userIds: string[], emit?: Emit<string[]>): Promise<string[]>;
  getMember(channelId: string, userId: string): Promise<Member | null>;
  /**
   * The channel and `userId`'s membership of it (null: not a member) in one read, as
   * `getChannel` and `getMember` would return them; null when the channel does not exist.
   * Optional: authorization falls back to the two calls. Every message send makes this read.
   */
  getChannelWithMember?(channelId: string, userId: string): Promise<{ channel: Channel; member: Member | null } | null>;
  listMembers(channelId: string, opts: { limit: number; after?: string }): Promise<Page<Member>>;
  /** Raises lastReadSeq (never lowers it). Returns the member, or null when not a member. */
  markRead(channelId: string, userId: string, seq: number, at: string, emit?: Emit<Member>): Promise<Member | null>;

  // Messages
  /**
   * Stores a message with the channel's next sequence number (gap-free, unique) and bumps the
   * parent's reply count for thread replies. A repeated (channelId, authorId, clientMsgId) returns
   * the stored message with `created: false` and appends no events.
   */
  appendMessage(input: MessageInput, emit?: Emit<Message>): Promise<AppendResult>;
  getMessage(id: string): Promise<Message | null>;
  /** Ascending by seq. */
  listMessages(channelId: string, query: HistoryQuery): Promise<Message[]>;
  updateMessage(id: string, patch: MessagePatch, emit?: Emit<Message>): Promise<Message | null>;
  /** Soft delete: keeps the row (and its seq) as a tombstone with no body. */
  deleteMessage(id: string, at: string, emit?: Emit<Message>): Promise<Message | null>;
  /** Adds a reaction; idempotent per (message, user, type). Returns null when the message is missing. */
  addReaction(
    reaction: Reaction,
    emit?: Emit<{ message: Message; reaction: Reaction }>,
  ): Promise<{ message: Message; added: boolean } | null>;
  removeReaction(
    messageId: string,
    userId: string,
    type: string,
    emit?: Emit<{ message: Message; reaction: Reaction }>,
  ): Promise<{ message: Message; removed: boolean } | null>;

  // Scans (maintenance: `natter-server reindex`)
  /**
   * Every message of the tenant, in all channels, thread replies and tombstones included, ordered
   * by message id (binary string order; ids are time-ordered). `after` is the `next` cursor of the
   * previous page (the last id returned); the first page has none.
   */
  scanMessages(opts: { after?: string; limit: number }): Promise<Page<Message>>;
  /** How many messages {@link scanMessages} would return (replies and tombstones included). */
  countMessages(): Promise<number>;

  // Moderation (see docs/moderation.md). Times compare as ISO-8601 text.
  /**
   * Stores a ban or mute, replacing the one of the same kind, user and scope (channel, or the
   * tenant when `channelId` is null). Returns it with the record it replaced, expired or not.
   * A channel-scoped sanction needs an existing channel and goes with it when it is deleted.
   */
  putSanction(sanction: Sanction, emit?: Emit<SanctionChange>): Promise<SanctionChange>;
  /** Lifts a ban or mute of one scope; returns the record removed (expired or not), or null. */
  removeSanction(
    kind: SanctionKind,
    userId: string,
    channelId: string | null,
    emit?: Emit<Sanction>,
  ): Promise<Sanction | null>;
  /**
   * The user's bans and mutes in force at `at` (no expiry, or expiring after it) that apply in
   * `channelId`: the tenant-wide ones and that channel's. With `channelId` null, tenant-wide only.
   */
  activeSanctions(userId: string, channelId: string | null, at: string): Promise<Sanction[]>;
  /** Bans or mutes of one scope in force at `query.at`, by user id; the cursor is the last user id. */
  listSanctions(query: SanctionQuery): Promise<Page<Sanction>>;

  /** Stores that `block.userId` blocks `block.blockedUserId`; a repeat keeps the first record. */
  putBlock(block: Block, emit?: Emit<Block>): Promise<{ block: Block; created: boolean }>;
  /** Returns the block removed, or null. */
  removeBlock(userId: string, blockedUserId: string, emit?: Emit<Block>): Promise<Block | null>;
  getBlock(userId: string, blockedUserId: string): Promise<Block | null>;
  /** The users `userId` blocks, by blocked user id; the cursor is the last blocked user id. */
  listBlocks(userId: string, opts: { limit: number; after?: string }): Promise<Page<Block>>;

  /**
   * Flags a message. One open flag per (message, reporter): a repeat returns the open flag with
   * `created: false` and emits nothing. Flags go with their message when it is hard-deleted
   * (channel deletion); a soft delete keeps them.
   */
  addFlag(input: FlagInput, emit?: Emit<Flag>): Promise<{ flag: Flag; created: boolean }>;
  getFlag(id: string): Promise<Flag | null>;
  /** Flags by id ascending (oldest first: a queue); the cursor is the last id. */
  listFlags(query: FlagQuery): Promise<Page<Flag>>;
  /** Resolves the flags of `ids` that are still open; returns those it resolved. */
  resolveFlags(ids: string[], resolution: FlagResolutionInput, emit?: Emit<Flag[]>): Promise<Flag[]>;

  /** Appends an audit entry (its id is chosen by the caller, time-ordered). */
  appendAudit(entry: AuditEntry, emit?: Emit<AuditEntry>): Promise<AuditEntry>;
  /** Audit entries, newest first (by id descending); the cursor is the last id. */
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;

  /**
   * The latest `createdAt` of the messages `authorId` stored in the channel while its
   * `slowModeSeconds` was above 0 (thread replies and since-deleted messages included); null
   * when none. Slow mode decides from it. Adapters may ignore messages sent with slow mode off
   * (the SQLite one records a mark in `appendMessage` only for slow-mode channels, so other
   * appends pay nothing), or answer for them too.
   */
  lastMessageAtBy(channelId: string, authorId: string): Promise<string | null>;
}

// ---------------------------------------------------------------------------------------------
// Moderation records

export type SanctionKind = 'ban' | 'mute';

/**
 * A ban (may not read or act) or mute (may read, not send or react) of one user, tenant-wide
 * (`channelId` null) or in one channel.
 */
export interface Sanction {
  kind: SanctionKind;
  userId: string;
  /** null: the whole tenant. */
  channelId: string | null;
  reason: string | null;
  /** The moderator's user id; null when the tenant backend imposed it. */
  createdBy: string | null;
  createdAt: string;
  /** It lifts by itself at this time; null: until removed. */
  expiresAt: string | null;
}

export interface SanctionChange {
  sanction: Sanction;
  /** The record of the same kind, user and scope that was replaced, or null. */
  previous: Sanction | null;
}

export interface SanctionQuery {
  kind: SanctionKind;
  /** The scope: a channel, or null for tenant-wide sanctions. */
  channelId: string | null;
  /** Only sanctions in force at this time. */
  at: string;
  limit: number;
  after?: string;
}

/** `userId` blocks `blockedUserId`: no direct messages from them. */
export interface Block {
  userId: string;
  blockedUserId: string;
  createdAt: string;
}

export type FlagStatus = 'open' | 'resolved';
export type FlagResolution = 'dismissed' | 'message_deleted';

/** A report of a message to the tenant's moderators. */
export interface Flag {
  id: string;
  messageId: string;
  channelId: string;
  /** Who flagged it; null for the tenant backend. */
  reporterId: string | null;
  reason: string;
  status: FlagStatus;
  createdAt: string;
  resolvedAt: string | null;
  /** The moderator who resolved it; null while open or when the backend resolved it. */
  resolvedBy: string | null;
  resolution: FlagResolution | null;
}

export type FlagInput = Pick<Flag, 'id' | 'messageId' | 'channelId' | 'reporterId' | 'reason' | 'createdAt'>;

export interface FlagResolutionInput {
  resolution: FlagResolution;
  resolvedBy: string | null;
  resolvedAt: string;
}

export interface FlagQuery {
  status?: FlagStatus;
  channelId?: string;
  messageId?: string;
  limit: number;
  after?: string;
}

/** Who did an audited action: a user, the tenant backend (API key) or the platform admin. */
export type AuditActorType = 'user' | 'server' | 'platform';

/** One moderation or admin action: who, what, on what, when, and the state before and after. */
export interface AuditEntry {
  id: string;
  actorType: AuditActorType;
  /** The acting user's id; null for the tenant backend and the platform admin. */
  actorId: string | null;
  /** e.g. `user.ban`, `channel.freeze`, `key.revoke` (see services/audit.ts). */
  action: string;
  /** e.g. `user`, `channel`, `message`, `flag`, `apiKey`, `tenant`. */
  targetType: string;
  targetId: string;
  /** JSON state before the action; null when there was none. */
  before: unknown;
  /** JSON state after the action; null when nothing remains. */
  after: unknown;
  at: string;
}

export interface AuditQuery {
  action?: string;
  targetType?: string;
  targetId?: string;
  limit: number;
  /** Cursor: entries with a smaller id (older) than this one. */
  after?: string;
}

// ---------------------------------------------------------------------------------------------
// Outbox

export interface OutboxStore {
  /**
   * Unpublished events in id order, at most `limit`, with id > `afterId`. The relay calls this
   * and then {@link markPublished}.
   */
  pending(limit: number, afterId?: number): Promise<OutboxEvent[]>;
  markPublished(ids: number[]): Promise<void>;
  /**
   * Deletes published events older than `before` (ISO time), oldest first: all of them, or at most
   * `limit` (from the oldest events, so the outbox relay can prune a backlog in short writes).
   * Returns how many.
   */
  prune(before: string, limit?: number): Promise<number>;
}

/** Thrown by adapters when a unique id is taken. */
export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    readonly entity: 'tenant' | 'apiKey' | 'channel' | 'user',
    readonly id: string,
  ) {
    super(`${entity} ${id} exists`);
  }
}
