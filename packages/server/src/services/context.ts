/**
 * What every service call gets: the actor, the tenant-scoped store handle, and shared deps.
 */
import type { Channel, Member } from '@natter/protocol';
import type { Actor } from '../domain/actor.js';
import type { Limits } from '../domain/limits.js';
import { type ChannelAction, decide } from '../domain/policy.js';
import { NatterError } from '../errors.js';
import type { TenantStore } from '../ports/store.js';
import type { PipelineHooks } from './hooks.js';
import type { OutboxRelay } from './outbox-relay.js';
import type { RateLimiter } from '../ports/rate-limit.js';
import type { RateLimitDefaults } from './rate-limits.js';

export type TenantActor = Exclude<Actor, { kind: 'platform' }>;

export interface ServiceDeps {
  relay: OutboxRelay;
  limiter: RateLimiter;
  rateLimits: RateLimitDefaults;
  limits: Limits;
  hooks: PipelineHooks;
  /** Default user token lifetime in seconds. */
  tokenTtl: number;
  now: () => Date;
}

export interface TenantCtx {
  actor: TenantActor;
  db: TenantStore;
  deps: ServiceDeps;
}

/** The acting user's id, or null for the tenant backend. */
export function actorUserId(actor: TenantActor): string | null {
  return actor.kind === 'user' ? actor.user.id : null;
}

/**
 * Loads a channel and the actor's membership and checks the action. A channel the actor may not
 * see answers exactly like a missing one.
 */
export async function channelFor(
  ctx: TenantCtx,
  channelId: string,
  action: ChannelAction,
): Promise<{ channel: Channel; member: Member | null }> {
  const channel = await ctx.db.getChannel(channelId);
  if (!channel) throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  const userId = actorUserId(ctx.actor);
  const member = userId ? await ctx.db.getMember(channelId, userId) : null;
  const decision = decide(action, { actor: ctx.actor, channel, member });
  if (decision === 'hidden') {
    throw new NatterError('NATTER_CHANNEL_NOT_FOUND', undefined, { field: 'channelId' });
  }
  if (decision === 'denied') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', `You may not ${action} in this channel.`);
  }
  return { channel, member };
}
