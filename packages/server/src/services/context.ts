/**
 * What every service call gets: the actor, the tenant (whose policy applies), the tenant-scoped
 * store handle, and shared deps; and the authorization helpers services call.
 */
import type { Channel, ChannelType, CustomData, Member, Message, User } from '@natter/protocol';
import { type AppAbility, abilityFor, asSubject, judge, permittedChannelFields } from '../domain/abilities.js';
import { type ChannelView, channelView, type ModerationTarget } from '../domain/abilities-views.js';
import type { ChannelPatchField } from '../domain/abilities-vocabulary.js';
import type { Actor } from '../domain/actor.js';
import type { Limits } from '../domain/limits.js';
import {
  type ChannelAction,
  explain,
  explainTenantModeration,
  type TenantModerationAction,
  type Verdict,
} from '../domain/policy.js';
import { NO_RESTRICTIONS, type Restrictions } from '../domain/restrictions.js';
import { NatterError } from '../errors.js';
import type { RateLimiter } from '../ports/rate-limit.js';
import type { TenantRecord, TenantStore } from '../ports/store.js';
import type { PipelineHooks } from './hooks.js';
import type { OutboxRelay } from './outbox-relay.js';
import type { PolicyHub } from './policy.js';
import type { RateLimitDefaults } from './rate-limits.js';

export type TenantActor = Exclude<Actor, { kind: 'platform' }>;

/**
 * The moderation state of the acting user in a channel (bans, mutes, blocks, slow mode). The
 * moderation service provides it; authorization only reads it.
 */
export type RestrictionsSource = (
  ctx: TenantCtx,
  channel: Channel,
  member: Member | null,
  /** What is being authorized, so a source may skip lookups that cannot matter (slow mode for reads). */
  action: ChannelAction,
) => Promise<Restrictions>;

export interface ServiceDeps {
  relay: OutboxRelay;
  limiter: RateLimiter;
  rateLimits: RateLimitDefaults;
  limits: Limits;
  hooks: PipelineHooks;
  /** Default user token lifetime in seconds. */
  tokenTtl: number;
  /** Seconds after sending during which an author may edit a message (NATTER_EDIT_WINDOW); 0: no limit. */
  editWindow: number;
  /** Tells this node's realtime gateway that a tenant's policy changed (it pushes `rules.updated`). */
  policies: PolicyHub;
  /** Moderation state of users in channels, set by the moderation service. @default nobody is restricted */
  restrictions?: RestrictionsSource;
  now: () => Date;
}

export interface TenantCtx {
  actor: TenantActor;
  /** The tenant as read for this request or frame: its policy is the one that applies. */
  tenant: TenantRecord;
  db: TenantStore;
  deps: ServiceDeps;
}

/** The acting user's id, or null for the tenant backend. */
export function actorUserId(actor: TenantActor): string | null {
  return actor.kind === 'user' ? actor.user.id : null;
}

/** The actor's ability under the tenant's current policy (cached; see `domain/abilities.ts`). */
export function abilityOf(ctx: TenantCtx): AppAbility {
  return abilityFor({ actor: ctx.actor, policy: ctx.tenant.settings.policy, editWindow: ctx.deps.editWindow }).ability;
}

/** The acting user's restrictions in `channel`; none for the backend or without a moderation service. */
export async function restrictionsOf(
  ctx: TenantCtx,
  channel: Channel,
  member: Member | null,
  action: ChannelAction,
): Promise<Restrictions> {
  if (ctx.actor.kind !== 'user' || !ctx.deps.restrictions) return NO_RESTRICTIONS;
  return ctx.deps.restrictions(ctx, channel, member, action);
}

/** The error a denial answers with: each reason has its own code. */
export function denialError(verdict: Verdict, action: string, editWindow: number): NatterError {
  switch (verdict.reason) {
    case 'hidden':
      return new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
    case 'banned':
      return new NatterError('NATTER_USER_BANNED');
    case 'muted':
      return new NatterError('NATTER_USER_MUTED');
    case 'blocked':
      return new NatterError('NATTER_USER_BLOCKED');
    case 'slow-mode':
      return new NatterError('NATTER_SLOW_MODE', `Slow mode: wait ${verdict.retryAfter} s before sending again.`, {
        retryAfter: verdict.retryAfter ?? 1,
      });
    case 'ended':
      return new NatterError('NATTER_CHANNEL_ENDED');
    case 'frozen':
      return new NatterError('NATTER_CHANNEL_FROZEN');
    case 'self':
      return new NatterError('NATTER_REQUEST_INVALID', 'userId is yourself: you cannot moderate yourself.', {
        field: 'userId',
      });
    case 'edit-window':
      return new NatterError(
        'NATTER_AUTH_FORBIDDEN',
        `Messages can be edited for ${editWindow} seconds after sending.`,
      );
    default:
      return new NatterError(
        'NATTER_AUTH_FORBIDDEN',
        `You may not ${action} in this channel${verdict.detail ? `: ${verdict.detail}` : '.'}`,
      );
  }
}

export interface AuthorizeInput {
  channel: Channel;
  member: Member | null;
  message?: Message;
  /** Looked up when left out. */
  restrictions?: Restrictions;
  /** For moderation actions: the user acted against (and their membership of the channel). */
  target?: ModerationTarget | null;
}

/** Throws the precise error unless the actor may do `action` (hidden → the 404 of a missing channel). */
export async function authorize(ctx: TenantCtx, action: ChannelAction, input: AuthorizeInput): Promise<void> {
  const restrictions = input.restrictions ?? (await restrictionsOf(ctx, input.channel, input.member, action));
  check(ctx, action, input, restrictions);
}

/** {@link authorize} with the restrictions known: no await (every send passes here). */
function check(ctx: TenantCtx, action: ChannelAction, input: AuthorizeInput, restrictions: Restrictions): void {
  const verdict = explain(action, {
    channel: input.channel,
    member: input.member,
    message: input.message,
    target: input.target,
    restrictions,
    actor: ctx.actor,
    ability: abilityOf(ctx),
    now: ctx.deps.now().getTime(),
  });
  if (verdict.decision !== 'allowed') throw denialError(verdict, action, ctx.deps.editWindow);
}

/** The channel and the acting user's membership (null for the backend); one read where the store can. */
async function channelAndMember(
  ctx: TenantCtx,
  channelId: string,
): Promise<{ channel: Channel; member: Member | null }> {
  const userId = actorUserId(ctx.actor);
  if (userId && ctx.db.getChannelWithMember) {
    const found = await ctx.db.getChannelWithMember(channelId, userId);
    if (!found) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
    return found;
  }
  const channel = await ctx.db.getChannel(channelId);
  if (!channel) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  return { channel, member: userId ? await ctx.db.getMember(channelId, userId) : null };
}

/**
 * Runs a write into `channelId`, which the caller has just read. The channel (or its whole tenant)
 * may be deleted by a concurrent request before the write runs; stores then fail with a plain
 * error (a missing row, a foreign key). That is answered as what it is, the channel being gone
 * (404), not as an internal error.
 */
export async function writeInChannel<T>(ctx: TenantCtx, channelId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof NatterError || (await ctx.db.getChannel(channelId)) !== null) throw err;
    throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  }
}

/**
 * Loads a channel and the actor's membership and checks the action. A channel the actor may not
 * see answers exactly like a missing one; other denials answer with their own code
 * (NATTER_USER_BANNED, NATTER_USER_MUTED, NATTER_SLOW_MODE…, else NATTER_AUTH_FORBIDDEN).
 */
export async function channelFor(
  ctx: TenantCtx,
  channelId: string,
  action: ChannelAction,
): Promise<{ channel: Channel; member: Member | null; restrictions: Restrictions }> {
  const { channel, member } = await channelAndMember(ctx, channelId);
  const restrictions = await restrictionsOf(ctx, channel, member, action);
  check(ctx, action, { channel, member }, restrictions);
  return { channel, member, restrictions };
}

export type ChannelPatch = Partial<{
  name: string | null;
  custom: CustomData;
  frozen: boolean;
  slowModeSeconds: number;
}>;

/**
 * Authorizes a channel PATCH field by field: the fields the actor may not change are left out of
 * the returned patch (the answer shows the channel as stored, so what changed is visible). When
 * none of the requested fields is permitted, the request is refused.
 */
export async function channelPatchFor(
  ctx: TenantCtx,
  channelId: string,
  patch: ChannelPatch,
): Promise<{ channel: Channel; member: Member | null; patch: ChannelPatch; ignored: ChannelPatchField[] }> {
  const requested = (Object.keys(patch) as ChannelPatchField[]).filter((f) => patch[f] !== undefined);
  const { channel, member, restrictions } = await channelFor(ctx, channelId, 'read');
  if (ctx.actor.kind === 'server') return { channel, member, patch, ignored: [] };
  const permitted = new Set(permittedChannelFields(abilityOf(ctx), channelView(channel, member, restrictions)));
  const allowed = requested.filter((f) => permitted.has(f));
  if (allowed.length === 0) {
    // Nothing (or nothing permitted) to change: refuse with the reason of the first field asked for.
    await authorize(ctx, requested.includes('frozen') && requested.length === 1 ? 'freeze' : 'update', {
      channel,
      member,
      restrictions,
    });
    if (requested.length > 0)
      throw new NatterError('NATTER_AUTH_FORBIDDEN', `You may not change ${requested.join(', ')} in this channel.`);
  }
  const kept: ChannelPatch = {};
  for (const f of allowed) Object.assign(kept, { [f]: patch[f] });
  return { channel, member, patch: kept, ignored: requested.filter((f) => !permitted.has(f)) };
}

const NEW_CHANNEL: ChannelView = {
  id: '',
  type: 'group',
  createdBy: null,
  frozen: false,
  ended: false,
  custom: {},
  isMember: false,
  memberRole: null,
  ...NO_RESTRICTIONS,
};

/** Refuses to create a channel of `type` unless the actor may (`create` on `Channel`). */
export function authorizeCreate(ctx: TenantCtx, input: { type: ChannelType; custom?: CustomData }): void {
  if (ctx.actor.kind === 'server') return;
  // The channel as it would be: new, with its creator as a member.
  const view: ChannelView = {
    ...NEW_CHANNEL,
    type: input.type,
    custom: input.custom ?? {},
    createdBy: ctx.actor.user.id,
    isMember: true,
  };
  if (!abilityOf(ctx).can('create', asSubject('Channel', view))) {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', `You may not create ${input.type} channels.`);
  }
}

/** Whether the actor may read `channel` (lists and search filter with this; restrictions aside). */
export function canRead(ctx: TenantCtx, channel: Channel, member: Member | null): boolean {
  if (ctx.actor.kind === 'server') return true;
  return judge(abilityOf(ctx), 'read', 'Channel', channelView(channel, member)).base;
}

/** Throws unless the actor may do a tenant-wide moderation action against `target`. */
export function authorizeTenantModeration(
  ctx: TenantCtx,
  action: TenantModerationAction,
  target: Pick<User, 'id' | 'role'> | null = null,
): void {
  const verdict = explainTenantModeration(action, { actor: ctx.actor, ability: abilityOf(ctx), target });
  if (verdict.decision !== 'allowed') throw denialError(verdict, action, ctx.deps.editWindow);
}
