/**
 * Moderation: bans and mutes (tenant-wide or per channel, optionally expiring), kicks, blocks,
 * and the {@link Restrictions} that authorization and the message pipeline decide from. Every
 * moderation action is written to the audit log. Flags and the queue: `moderation-queue.ts`.
 *
 * Who may moderate (checked here until the CASL abilities take it over):
 * - the tenant backend: everything;
 * - tenant staff (user role `admin` or `moderator`): tenant-wide and in every channel;
 * - channel managers (member role `owner`, `moderator`, `agent`): in their channel only.
 * A user may only act on someone they outrank (admin > moderator > channel manager > others),
 * never on themselves.
 *
 * @see docs/moderation.md
 */
import type { Channel, Member, User } from '@natter/protocol';
import { event } from '../domain/events.js';
import { NO_RESTRICTIONS, type Restrictions } from '../domain/restrictions.js';
import { invalid, NatterError } from '../errors.js';
import type { Block, Page, Sanction, SanctionKind } from '../ports/store.js';
import { audit } from './audit.js';
import { channelFor, type TenantCtx, writeInChannel } from './context.js';

const MANAGER_ROLES = new Set<Member['role']>(['owner', 'moderator', 'agent']);
const isStaff = (user: User) => user.role === 'admin' || user.role === 'moderator';

// ---------------------------------------------------------------------------------------------
// Restrictions

/**
 * The moderation state of the acting user in `channel`: bans and mutes in force (tenant-wide or
 * this channel's), a block by the other member of a direct channel, and the slow-mode wait
 * (channel managers and tenant staff are exempt). The tenant backend has none.
 *
 * Fits `ServiceDeps.restrictions` (authorization's RestrictionsSource). Pass the actor's
 * `member`ship when already loaded (null: not a member) to save a lookup under slow mode.
 */
export async function restrictionsFor(ctx: TenantCtx, channel: Channel, member?: Member | null): Promise<Restrictions> {
  if (ctx.actor.kind !== 'user') return NO_RESTRICTIONS;
  const user = ctx.actor.user;
  const now = ctx.deps.now();
  const sanctions = await ctx.db.activeSanctions(user.id, channel.id, now.toISOString());
  return {
    banned: sanctions.some((s) => s.kind === 'ban'),
    muted: sanctions.some((s) => s.kind === 'mute'),
    blockedByPeer: channel.type === 'direct' && (await blockedByPeer(ctx, channel.id, user.id)),
    slowModeWait: channel.slowModeSeconds > 0 ? await slowModeWait(ctx, channel, user, member, now) : 0,
  };
}

async function blockedByPeer(ctx: TenantCtx, channelId: string, userId: string): Promise<boolean> {
  const { items } = await ctx.db.listMembers(channelId, { limit: 2 });
  const peer = items.find((m) => m.userId !== userId);
  return peer !== undefined && (await ctx.db.getBlock(peer.userId, userId)) !== null;
}

/** Whole seconds left before `user` may send in `channel` again (rounded up). */
async function slowModeWait(
  ctx: TenantCtx,
  channel: Channel,
  user: User,
  known: Member | null | undefined,
  now: Date,
): Promise<number> {
  if (isStaff(user)) return 0;
  const member = known === undefined ? await ctx.db.getMember(channel.id, user.id) : known;
  if (member && MANAGER_ROLES.has(member.role)) return 0;
  const last = await ctx.db.lastMessageAtBy(channel.id, user.id);
  if (last === null) return 0;
  const left = channel.slowModeSeconds * 1000 - (now.getTime() - Date.parse(last));
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/** What a restricted user is trying to do. `read` covers subscribing and reading history. */
export type RestrictedAction = 'read' | 'send' | 'react' | 'type';

/** The error a user with `r` gets for `action`, or null when it is allowed. */
export function restrictionError(r: Restrictions, action: RestrictedAction): NatterError | null {
  if (r.banned) return new NatterError('NATTER_USER_BANNED');
  if (action === 'read') return null;
  if (r.muted) return new NatterError('NATTER_USER_MUTED');
  if (action !== 'send') return null;
  if (r.blockedByPeer) return new NatterError('NATTER_USER_BLOCKED');
  if (r.slowModeWait > 0) {
    return new NatterError('NATTER_SLOW_MODE', `Slow mode: wait ${r.slowModeWait} s before sending here again.`, {
      retryAfter: r.slowModeWait,
    });
  }
  return null;
}

/**
 * Throws the moderation error of `action` for the acting user in `channel`, if any. Blocks and
 * slow mode only matter to sends, so other actions look up bans and mutes alone.
 */
export async function enforceRestrictions(ctx: TenantCtx, channel: Channel, action: RestrictedAction): Promise<void> {
  if (ctx.actor.kind !== 'user') return;
  const r =
    action === 'send' ? await restrictionsFor(ctx, channel) : await sanctionsOf(ctx, ctx.actor.user.id, channel.id);
  const error = restrictionError(r, action);
  if (error) throw error;
}

async function sanctionsOf(ctx: TenantCtx, userId: string, channelId: string): Promise<Restrictions> {
  const sanctions = await ctx.db.activeSanctions(userId, channelId, ctx.deps.now().toISOString());
  return {
    ...NO_RESTRICTIONS,
    banned: sanctions.some((s) => s.kind === 'ban'),
    muted: sanctions.some((s) => s.kind === 'mute'),
  };
}

// ---------------------------------------------------------------------------------------------
// Who may moderate

/** Rank of a user for moderation: who may act on whom. */
function rank(user: User, member: Member | null): number {
  if (user.role === 'admin') return 3;
  if (user.role === 'moderator') return 2;
  return member && MANAGER_ROLES.has(member.role) ? 1 : 0;
}

export interface ModerationScope {
  /** The channel acted in; null for tenant-wide actions. */
  channel: Channel | null;
  /** The actor's rank there; Infinity for the tenant backend. */
  rank: number;
}

/**
 * Checks that the actor may moderate in `channelId` (null: tenant-wide). A channel the actor may
 * not see answers NATTER_CHANNEL_NOT_FOUND, as everywhere.
 */
export async function moderationScope(ctx: TenantCtx, channelId: string | null): Promise<ModerationScope> {
  const { actor } = ctx;
  if (channelId === null) {
    if (actor.kind === 'server') return { channel: null, rank: Number.POSITIVE_INFINITY };
    if (!isStaff(actor.user)) {
      throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Only tenant admins and moderators act tenant-wide.');
    }
    return { channel: null, rank: rank(actor.user, null) };
  }
  if (actor.kind === 'server' || isStaff(actor.user)) {
    // Staff moderate channels they are not members of, so existence is all that is checked.
    const channel = await ctx.db.getChannel(channelId);
    if (!channel) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
    return { channel, rank: actor.kind === 'server' ? Number.POSITIVE_INFINITY : rank(actor.user, null) };
  }
  const { channel, member } = await channelFor(ctx, channelId, 'read');
  const r = rank(actor.user, member);
  if (r === 0) throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Only channel managers and tenant staff moderate here.');
  return { channel, rank: r };
}

/** Loads the target user and checks the actor outranks them where the action applies. */
async function targetOf(ctx: TenantCtx, scope: ModerationScope, userId: string): Promise<User> {
  const user = await ctx.db.getUser(userId);
  if (!user) throw new NatterError('NATTER_USER_NOT_FOUND', undefined, { field: 'userId' });
  if (ctx.actor.kind === 'user') {
    if (ctx.actor.user.id === userId) throw invalid('userId', 'is yourself: you cannot moderate yourself');
    const member = scope.channel ? await ctx.db.getMember(scope.channel.id, userId) : null;
    if (rank(user, member) >= scope.rank) {
      throw new NatterError(
        'NATTER_AUTH_FORBIDDEN',
        `You may not moderate ${userId}: they rank as high as you or higher.`,
        {
          field: 'userId',
        },
      );
    }
  }
  return user;
}

// ---------------------------------------------------------------------------------------------
// Bans and mutes

export interface SanctionInput {
  userId: string;
  /** A channel, or null/absent for tenant-wide. */
  channelId?: string | null;
  /** ISO-8601 time at which it lifts by itself; absent or null: until lifted. */
  expiresAt?: string | null;
  reason?: string | null;
}

const IMPOSED = { ban: 'moderation.banned', mute: 'moderation.muted' } as const;
const LIFTED = { ban: 'moderation.unbanned', mute: 'moderation.unmuted' } as const;

/** Bans or mutes a user; replaces an existing one of the same scope. */
export async function impose(
  ctx: TenantCtx,
  kind: SanctionKind,
  input: SanctionInput,
): Promise<{ sanction: Sanction; created: boolean }> {
  const now = ctx.deps.now();
  const expiresAt = input.expiresAt ? futureTime(input.expiresAt, now) : null;
  const scope = await moderationScope(ctx, input.channelId ?? null);
  await targetOf(ctx, scope, input.userId);
  return imposeIn(ctx, kind, scope.channel?.id ?? null, input.userId, { expiresAt, reason: input.reason ?? null });
}

async function imposeIn(
  ctx: TenantCtx,
  kind: SanctionKind,
  channelId: string | null,
  userId: string,
  opts: { expiresAt: string | null; reason: string | null },
): Promise<{ sanction: Sanction; created: boolean }> {
  const sanction: Sanction = {
    kind,
    userId,
    channelId,
    reason: opts.reason,
    createdBy: ctx.actor.kind === 'user' ? ctx.actor.user.id : null,
    createdAt: ctx.deps.now().toISOString(),
    expiresAt: opts.expiresAt,
  };
  const put = () => ctx.db.putSanction(sanction, (c) => [event(IMPOSED[kind], channelId, { sanction: c.sanction })]);
  // A channel deleted meanwhile answers 404, as for every write into a channel.
  const { previous } = channelId === null ? await put() : await writeInChannel(ctx, channelId, put);
  ctx.deps.relay.kick();
  await audit(ctx, { action: `user.${kind}`, targetType: 'user', targetId: userId, before: previous, after: sanction });
  return { sanction, created: previous === null };
}

/** Lifts a ban or mute. Lifting one that does not exist changes nothing and is not an error. */
export async function lift(
  ctx: TenantCtx,
  kind: SanctionKind,
  userId: string,
  channelId: string | null,
): Promise<void> {
  const scope = await moderationScope(ctx, channelId);
  await targetOf(ctx, scope, userId);
  const removed = await ctx.db.removeSanction(kind, userId, channelId, (s) => [
    event(LIFTED[kind], channelId, { sanction: s }),
  ]);
  if (!removed) return;
  ctx.deps.relay.kick();
  await audit(ctx, { action: `user.un${kind}`, targetType: 'user', targetId: userId, before: removed, after: null });
}

/** Bans or mutes of one scope in force now, by user id. */
export async function listSanctions(
  ctx: TenantCtx,
  kind: SanctionKind,
  query: { channelId: string | null; limit: number; after?: string },
): Promise<Page<Sanction>> {
  await moderationScope(ctx, query.channelId);
  return ctx.db.listSanctions({ kind, ...query, at: ctx.deps.now().toISOString() });
}

function futureTime(value: string, now: Date): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid('expiresAt', 'is not a date-time');
  if (ms <= now.getTime()) throw invalid('expiresAt', 'must be in the future');
  // Stored as UTC ISO text, which compares in time order.
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Kick

/**
 * Removes a member from a channel, optionally banning them from it (so they cannot rejoin a
 * public channel). With `ban`, a user who is no longer a member is still banned.
 */
export async function kick(
  ctx: TenantCtx,
  channelId: string,
  userId: string,
  opts: { ban?: boolean; expiresAt?: string | null; reason?: string | null } = {},
): Promise<{ removed: boolean; ban: Sanction | null }> {
  const expiresAt = opts.expiresAt ? futureTime(opts.expiresAt, ctx.deps.now()) : null;
  const scope = await moderationScope(ctx, channelId);
  const channel = scope.channel as Channel;
  if (channel.type === 'direct') {
    throw new NatterError('NATTER_CHANNEL_INVALID_MEMBERS', 'Direct channels keep their two members.', {
      field: 'userId',
    });
  }
  await targetOf(ctx, scope, userId);
  const member = await ctx.db.getMember(channelId, userId);
  const removed = await ctx.db.removeMembers(channelId, [userId], (ids) =>
    ids.length > 0 ? [event('member.removed', channelId, { channel, userIds: ids })] : [],
  );
  if (removed.length === 0 && !opts.ban)
    throw new NatterError('NATTER_MEMBER_NOT_FOUND', undefined, { field: 'userId' });
  ctx.deps.relay.kick();
  const ban = opts.ban
    ? (await imposeIn(ctx, 'ban', channelId, userId, { expiresAt, reason: opts.reason ?? null })).sanction
    : null;
  await audit(ctx, {
    action: 'member.kick',
    targetType: 'user',
    targetId: userId,
    before: { channelId, member },
    after: { channelId, member: null, ban, reason: opts.reason ?? null },
  });
  return { removed: removed.length > 0, ban };
}

// ---------------------------------------------------------------------------------------------
// Blocks: a user's own choice, not a moderation action (so not audited).

function blocker(ctx: TenantCtx): User {
  if (ctx.actor.kind !== 'user')
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Blocks belong to users: use a user token.');
  return ctx.actor.user;
}

/** The calling user blocks `userId`: no more direct messages from them. Idempotent. */
export async function block(ctx: TenantCtx, userId: string): Promise<{ block: Block; created: boolean }> {
  const me = blocker(ctx);
  if (userId === me.id) throw invalid('userId', 'is yourself: you cannot block yourself');
  if (!(await ctx.db.getUser(userId))) throw new NatterError('NATTER_USER_NOT_FOUND', undefined, { field: 'userId' });
  return ctx.db.putBlock({ userId: me.id, blockedUserId: userId, createdAt: ctx.deps.now().toISOString() });
}

/** Lifts the calling user's block of `userId`; lifting none is not an error. */
export async function unblock(ctx: TenantCtx, userId: string): Promise<void> {
  await ctx.db.removeBlock(blocker(ctx).id, userId);
}

export async function listBlocks(ctx: TenantCtx, opts: { limit: number; after?: string }): Promise<Page<Block>> {
  return ctx.db.listBlocks(blocker(ctx).id, opts);
}
