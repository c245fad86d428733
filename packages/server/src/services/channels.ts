/**
 * Channels and their members: creation rules per type, updates, support endings, membership and
 * read receipts.
 */
import type { Channel, ChannelType, CustomData, Member, MemberRole } from '@natter/protocol';
import { event } from '../domain/events.js';
import { timeId } from '../domain/ids.js';
import { checkCustom } from '../domain/limits.js';
import { invalid, NatterError } from '../errors.js';
import { type MyChannel, type Page, StoreConflictError } from '../ports/store.js';
import { audit } from './audit.js';
import {
  actorUserId,
  authorizeCreate,
  canRead,
  channelFor,
  channelPatchFor,
  type TenantCtx,
  writeInChannel,
} from './context.js';

export interface MemberInput {
  userId: string;
  role?: MemberRole;
}

export interface CreateChannelInput {
  id?: string;
  type: ChannelType;
  name?: string;
  custom?: CustomData;
  members?: (string | MemberInput)[];
}

const normalize = (m: string | MemberInput): MemberInput => (typeof m === 'string' ? { userId: m } : m);

async function requireUsers(ctx: TenantCtx, userIds: string[]): Promise<void> {
  const found = new Set((await ctx.db.getUsers(userIds)).map((u) => u.id));
  const missing = userIds.find((id) => !found.has(id));
  if (missing !== undefined) {
    throw new NatterError('NATTER_USER_NOT_FOUND', `User ${missing} does not exist.`, { field: 'members' });
  }
}

/** Members of a new channel, by type, with the creator placed in its role. */
function planMembers(ctx: TenantCtx, input: CreateChannelInput): { userId: string; role: MemberRole }[] {
  const me = actorUserId(ctx.actor);
  const byId = new Map<string, MemberRole>();
  const defaultRole: MemberRole = input.type === 'support' ? 'agent' : 'member';
  for (const m of (input.members ?? []).map(normalize)) byId.set(m.userId, m.role ?? defaultRole);
  if (me !== null) {
    const creatorRole: MemberRole = input.type === 'support' ? 'visitor' : input.type === 'direct' ? 'member' : 'owner';
    byId.set(me, creatorRole);
  }
  const members = [...byId].map(([userId, role]) => ({ userId, role }));
  if (input.type === 'direct') {
    if (members.length !== 2) {
      throw new NatterError('NATTER_CHANNEL_INVALID_MEMBERS', 'A direct channel has exactly two distinct members.', {
        field: 'members',
      });
    }
    for (const m of members) m.role = 'member';
  }
  if (input.type === 'support' && !members.some((m) => m.role === 'visitor')) {
    throw new NatterError('NATTER_CHANNEL_INVALID_MEMBERS', 'A support channel needs a member with role visitor.', {
      field: 'members',
    });
  }
  return members;
}

export async function createChannel(
  ctx: TenantCtx,
  input: CreateChannelInput,
): Promise<{ channel: Channel; created: boolean }> {
  if (input.custom !== undefined) checkCustom('custom', input.custom, ctx.deps.limits);
  authorizeCreate(ctx, input);
  const members = planMembers(ctx, input);
  await requireUsers(
    ctx,
    members.map((m) => m.userId),
  );
  const directKey =
    input.type === 'direct'
      ? members
          .map((m) => m.userId)
          .sort()
          .join('\u0000')
      : null;
  if (directKey !== null) {
    const existing = await ctx.db.findDirectChannel(directKey);
    if (existing) return { channel: existing, created: false };
  }
  try {
    const channel = await ctx.db.createChannel(
      {
        id: input.id ?? timeId('ch'),
        type: input.type,
        name: input.name ?? null,
        custom: input.custom ?? {},
        createdBy: actorUserId(ctx.actor),
        directKey,
        members,
      },
      ctx.deps.now().toISOString(),
      (channel) => [event('channel.created', channel.id, { channel })],
    );
    ctx.deps.relay.kick();
    return { channel, created: true };
  } catch (err) {
    if (err instanceof StoreConflictError) {
      // A concurrent request created the same direct pair first: answer with that channel.
      const raced = directKey !== null ? await ctx.db.findDirectChannel(directKey) : null;
      if (raced) return { channel: raced, created: false };
      throw new NatterError('NATTER_CHANNEL_EXISTS', `Channel ${input.id} exists.`, { field: 'id' });
    }
    throw err;
  }
}

export async function getChannel(ctx: TenantCtx, channelId: string): Promise<Channel> {
  return (await channelFor(ctx, channelId, 'read')).channel;
}

export interface UpdateChannelInput {
  name?: string | null;
  custom?: CustomData;
  frozen?: boolean;
  /** Slow mode interval in seconds; 0 turns it off. */
  slowModeSeconds?: number;
}

export async function updateChannel(ctx: TenantCtx, channelId: string, input: UpdateChannelInput): Promise<Channel> {
  if (input.custom !== undefined) checkCustom('custom', input.custom, ctx.deps.limits);
  // Field by field: what the actor may not change is left out (the answer shows what changed).
  const { channel: before, patch } = await channelPatchFor(ctx, channelId, input);
  const channel = await ctx.db.updateChannel(channelId, patch, (c) => [event('channel.updated', c.id, { channel: c })]);
  if (!channel) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  ctx.deps.relay.kick();
  await auditUpdate(ctx, before, channel, patch);
  return channel;
}

/** One audit entry per kind of change: freezing, slow mode, and the rest (name, custom). */
async function auditUpdate(ctx: TenantCtx, before: Channel, after: Channel, input: UpdateChannelInput): Promise<void> {
  const entry = (action: Parameters<typeof audit>[1]['action'], fields: (keyof Channel)[]) =>
    audit(ctx, {
      action,
      targetType: 'channel',
      targetId: after.id,
      before: Object.fromEntries(fields.map((f) => [f, before[f]])),
      after: Object.fromEntries(fields.map((f) => [f, after[f]])),
    });
  if (input.frozen !== undefined) await entry(input.frozen ? 'channel.freeze' : 'channel.unfreeze', ['frozen']);
  if (input.slowModeSeconds !== undefined) await entry('channel.slow_mode', ['slowModeSeconds']);
  const rest = (['name', 'custom'] as const).filter((f) => input[f] !== undefined);
  if (rest.length > 0) await entry('channel.update', rest);
}

export async function deleteChannel(ctx: TenantCtx, channelId: string): Promise<void> {
  const { channel } = await channelFor(ctx, channelId, 'delete');
  const deleted = await ctx.db.deleteChannel(channelId, (c) => [event('channel.deleted', c.id, { channel: c })]);
  ctx.deps.relay.kick();
  if (deleted)
    await audit(ctx, {
      action: 'channel.delete',
      targetType: 'channel',
      targetId: channelId,
      before: channel,
      after: null,
    });
}

export async function endChannel(ctx: TenantCtx, channelId: string): Promise<Channel> {
  const { channel } = await channelFor(ctx, channelId, 'end');
  if (channel.type !== 'support') throw invalid('channelId', 'is not a support channel; only those can be ended');
  if (channel.endedAt) return channel;
  const ended = await ctx.db.updateChannel(channelId, { endedAt: ctx.deps.now().toISOString() }, (c) => [
    event('channel.ended', c.id, { channel: c }),
  ]);
  if (!ended) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  ctx.deps.relay.kick();
  return ended;
}

export async function addMembers(ctx: TenantCtx, channelId: string, input: MemberInput[]): Promise<Member[]> {
  const me = actorUserId(ctx.actor);
  const selfJoin = me !== null && input.length === 1 && input[0]?.userId === me;
  const { channel } = await channelFor(ctx, channelId, selfJoin ? 'join' : 'addMembers');
  if (channel.type === 'direct') {
    throw new NatterError('NATTER_CHANNEL_INVALID_MEMBERS', 'Direct channels keep their two members.', {
      field: 'members',
    });
  }
  await requireUsers(
    ctx,
    input.map((m) => m.userId),
  );
  const members = input.map((m) => ({ userId: m.userId, role: selfJoin ? 'member' : (m.role ?? 'member') }));
  const added = await writeInChannel(ctx, channelId, () =>
    ctx.db.addMembers(channelId, members, ctx.deps.now().toISOString(), (added) =>
      added.length > 0 ? [event('member.added', channelId, { channel, members: added })] : [],
    ),
  );
  ctx.deps.relay.kick();
  return added;
}

export async function removeMember(ctx: TenantCtx, channelId: string, userId: string): Promise<void> {
  const self = actorUserId(ctx.actor) === userId;
  const { channel } = await channelFor(ctx, channelId, self ? 'leave' : 'removeMembers');
  if (channel.type === 'direct') {
    throw new NatterError('NATTER_CHANNEL_INVALID_MEMBERS', 'Direct channels keep their two members.', {
      field: 'userId',
    });
  }
  // Someone else's removal is a moderation action: keep the membership for the audit entry.
  const member = self ? null : await ctx.db.getMember(channelId, userId);
  const removed = await ctx.db.removeMembers(channelId, [userId], (ids) =>
    ids.length > 0 ? [event('member.removed', channelId, { channel, userIds: ids })] : [],
  );
  if (removed.length === 0) throw new NatterError('NATTER_MEMBER_NOT_FOUND', undefined, { field: 'userId' });
  ctx.deps.relay.kick();
  if (!self) {
    await audit(ctx, {
      action: 'member.remove',
      targetType: 'user',
      targetId: userId,
      before: { channelId, member },
      after: { channelId, member: null },
    });
  }
}

export async function listMembers(
  ctx: TenantCtx,
  channelId: string,
  opts: { limit: number; after?: string },
): Promise<Page<Member>> {
  await channelFor(ctx, channelId, 'readMembers');
  return ctx.db.listMembers(channelId, opts);
}

/** Marks the channel read up to `seq` (default: its newest message) for the acting user. */
export async function markRead(ctx: TenantCtx, channelId: string, seq?: number): Promise<Member> {
  const { channel, member } = await channelFor(ctx, channelId, 'markRead');
  const userId = actorUserId(ctx.actor);
  if (!member || userId === null) throw new NatterError('NATTER_MEMBER_NOT_FOUND');
  const upTo = Math.min(seq ?? channel.lastSeq, channel.lastSeq);
  const updated = await ctx.db.markRead(channelId, userId, upTo, ctx.deps.now().toISOString(), (m) =>
    m.lastReadSeq > member.lastReadSeq ? [event('read.updated', channelId, { member: m })] : [],
  );
  if (!updated) throw new NatterError('NATTER_MEMBER_NOT_FOUND');
  ctx.deps.relay.kick();
  return updated;
}

export async function listMyChannels(
  ctx: TenantCtx,
  opts: { limit: number; after?: string; userId?: string },
): Promise<Page<MyChannel>> {
  const userId = actorUserId(ctx.actor) ?? opts.userId;
  if (!userId) throw invalid('userId', 'is required when the backend lists channels');
  const { userId: _, ...page } = opts;
  const mine = await ctx.db.listMyChannels(userId, page);
  // A tenant policy may deny reading some channels one is a member of: leave them out.
  return { ...mine, items: mine.items.filter((c) => canRead(ctx, c.channel, c.membership)) };
}
