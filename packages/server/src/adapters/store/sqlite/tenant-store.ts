/**
 * One tenant's handle on the SQLite store. Every query below binds `tenantId`; the methods only
 * route to the file of their concept (users, channels, members, messages, reactions, and the
 * moderation records: sanctions, blocks, flags, audit log).
 *
 * The parts are synchronous (better-sqlite3 is); the `async` methods turn their throws into
 * rejections, as the port promises.
 */
import type { Channel, Member, Message, Reaction, User } from '@natter/protocol';
import type {
  AppendResult,
  AuditEntry,
  AuditQuery,
  Block,
  ChannelInput,
  ChannelPatch,
  Emit,
  Flag,
  FlagInput,
  FlagQuery,
  FlagResolutionInput,
  HistoryQuery,
  MessageInput,
  MessagePatch,
  MyChannel,
  Page,
  Sanction,
  SanctionChange,
  SanctionKind,
  SanctionQuery,
  TenantStore,
  UserInput,
} from '../../../ports/store.js';
import * as audit from './audit-store.js';
import * as blocks from './block-store.js';
import * as channels from './channel-store.js';
import type { SqliteContext, TenantScope } from './connection.js';
import * as flags from './flag-store.js';
import * as members from './member-store.js';
import * as messages from './message-store.js';
import * as reactions from './reaction-store.js';
import * as sanctions from './sanction-store.js';
import * as users from './user-store.js';

type PageOpts = { limit: number; after?: string };
type MemberSpec = { userId: string; role: Member['role'] };
type ReactionEmit = Emit<{ message: Message; reaction: Reaction }>;

export class SqliteTenantStore implements TenantStore, TenantScope {
  constructor(
    readonly ctx: SqliteContext,
    readonly tenantId: string,
  ) {}

  // Users
  async upsertUsers(input: UserInput[], emit?: Emit<User[]>): Promise<User[]> {
    return users.upsertUsers(this, input, emit);
  }
  async getUser(id: string): Promise<User | null> {
    return users.getUser(this, id);
  }
  async getUsers(ids: string[]): Promise<User[]> {
    return users.getUsers(this, ids);
  }
  async listUsers(opts: PageOpts): Promise<Page<User>> {
    return users.listUsers(this, opts);
  }
  async deleteUser(id: string, emit?: Emit<User>): Promise<boolean> {
    return users.deleteUser(this, id, emit);
  }

  // Channels
  async createChannel(input: ChannelInput, createdAt: string, emit?: Emit<Channel>): Promise<Channel> {
    return channels.createChannel(this, input, createdAt, emit);
  }
  async getChannel(id: string): Promise<Channel | null> {
    return channels.getChannel(this, id);
  }
  async findDirectChannel(directKey: string): Promise<Channel | null> {
    return channels.findDirectChannel(this, directKey);
  }
  async updateChannel(id: string, patch: ChannelPatch, emit?: Emit<Channel>): Promise<Channel | null> {
    return channels.updateChannel(this, id, patch, emit);
  }
  async deleteChannel(id: string, emit?: Emit<Channel>): Promise<boolean> {
    return channels.deleteChannel(this, id, emit);
  }
  async listMyChannels(userId: string, opts: PageOpts): Promise<Page<MyChannel>> {
    return channels.listMyChannels(this, userId, opts);
  }
  async listPublicChannels(opts: PageOpts): Promise<Page<Channel>> {
    return channels.listPublicChannels(this, opts);
  }

  // Members
  async addMembers(channelId: string, list: MemberSpec[], joinedAt: string, emit?: Emit<Member[]>): Promise<Member[]> {
    return members.addMembers(this, channelId, list, joinedAt, emit);
  }
  async removeMembers(channelId: string, userIds: string[], emit?: Emit<string[]>): Promise<string[]> {
    return members.removeMembers(this, channelId, userIds, emit);
  }
  async getChannelWithMember(
    channelId: string,
    userId: string,
  ): Promise<{ channel: Channel; member: Member | null } | null> {
    return channels.getChannelWithMember(this, channelId, userId);
  }

  async getMember(channelId: string, userId: string): Promise<Member | null> {
    return members.getMember(this, channelId, userId);
  }
  async listMembers(channelId: string, opts: PageOpts): Promise<Page<Member>> {
    return members.listMembers(this, channelId, opts);
  }
  async markRead(
    channelId: string,
    userId: string,
    seq: number,
    at: string,
    emit?: Emit<Member>,
  ): Promise<Member | null> {
    return members.markRead(this, channelId, userId, seq, at, emit);
  }

  // Moderation
  async putSanction(sanction: Sanction, emit?: Emit<SanctionChange>): Promise<SanctionChange> {
    return sanctions.putSanction(this, sanction, emit);
  }
  async removeSanction(
    kind: SanctionKind,
    userId: string,
    channelId: string | null,
    emit?: Emit<Sanction>,
  ): Promise<Sanction | null> {
    return sanctions.removeSanction(this, kind, userId, channelId, emit);
  }
  async activeSanctions(userId: string, channelId: string | null, at: string): Promise<Sanction[]> {
    return sanctions.activeSanctions(this, userId, channelId, at);
  }
  async listSanctions(query: SanctionQuery): Promise<Page<Sanction>> {
    return sanctions.listSanctions(this, query);
  }
  async putBlock(block: Block, emit?: Emit<Block>): Promise<{ block: Block; created: boolean }> {
    return blocks.putBlock(this, block, emit);
  }
  async removeBlock(userId: string, blockedUserId: string, emit?: Emit<Block>): Promise<Block | null> {
    return blocks.removeBlock(this, userId, blockedUserId, emit);
  }
  async getBlock(userId: string, blockedUserId: string): Promise<Block | null> {
    return blocks.getBlock(this, userId, blockedUserId);
  }
  async listBlocks(userId: string, opts: PageOpts): Promise<Page<Block>> {
    return blocks.listBlocks(this, userId, opts);
  }
  async addFlag(input: FlagInput, emit?: Emit<Flag>): Promise<{ flag: Flag; created: boolean }> {
    return flags.addFlag(this, input, emit);
  }
  async getFlag(id: string): Promise<Flag | null> {
    return flags.getFlag(this, id);
  }
  async listFlags(query: FlagQuery): Promise<Page<Flag>> {
    return flags.listFlags(this, query);
  }
  async resolveFlags(ids: string[], resolution: FlagResolutionInput, emit?: Emit<Flag[]>): Promise<Flag[]> {
    return flags.resolveFlags(this, ids, resolution, emit);
  }
  async appendAudit(entry: AuditEntry, emit?: Emit<AuditEntry>): Promise<AuditEntry> {
    return audit.appendAudit(this, entry, emit);
  }
  async listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return audit.listAudit(this, query);
  }
  async lastMessageAtBy(channelId: string, authorId: string): Promise<string | null> {
    return messages.lastMessageAtBy(this, channelId, authorId);
  }

  // Messages
  async appendMessage(input: MessageInput, emit?: Emit<Message>): Promise<AppendResult> {
    return messages.appendMessage(this, input, emit);
  }
  async getMessage(id: string): Promise<Message | null> {
    return messages.getMessage(this, id);
  }
  async listMessages(channelId: string, query: HistoryQuery): Promise<Message[]> {
    return messages.listMessages(this, channelId, query);
  }
  async updateMessage(id: string, patch: MessagePatch, emit?: Emit<Message>): Promise<Message | null> {
    return messages.updateMessage(this, id, patch, emit);
  }
  async deleteMessage(id: string, at: string, emit?: Emit<Message>): Promise<Message | null> {
    return messages.deleteMessage(this, id, at, emit);
  }

  // Reactions
  async addReaction(reaction: Reaction, emit?: ReactionEmit): Promise<{ message: Message; added: boolean } | null> {
    return reactions.addReaction(this, reaction, emit);
  }
  async removeReaction(
    messageId: string,
    userId: string,
    type: string,
    emit?: ReactionEmit,
  ): Promise<{ message: Message; removed: boolean } | null> {
    return reactions.removeReaction(this, messageId, userId, type, emit);
  }

  // Scans
  async scanMessages(opts: PageOpts): Promise<Page<Message>> {
    return messages.scanMessages(this, opts);
  }
  async countMessages(): Promise<number> {
    return messages.countMessages(this);
  }
}
