/**
 * Message flags and the moderation queue: any reader flags a message; tenant staff and the
 * backend (or a channel's managers, for that channel) list open flags with their messages and
 * resolve them by dismissing or deleting the message. Who may moderate: `moderation.ts`.
 *
 * @see docs/moderation.md
 */
import type { Message } from '@natter/protocol';
import { event } from '../domain/events.js';
import { timeId } from '../domain/ids.js';
import { NatterError } from '../errors.js';
import type { Flag, FlagResolution, Page } from '../ports/store.js';
import { audit } from './audit.js';
import { channelFor, type TenantCtx, writeInChannel } from './context.js';
import { moderationScope } from './moderation.js';

const isStaff = (ctx: TenantCtx) =>
  ctx.actor.kind === 'server' || ctx.actor.user.role === 'admin' || ctx.actor.user.role === 'moderator';
/**
 * Flags a message for the moderators. Anyone who may read it may flag it; one open flag per
 * message and reporter (a repeat returns it with `created: false`).
 */
export async function flagMessage(
  ctx: TenantCtx,
  channelId: string,
  messageId: string,
  reason: string,
): Promise<{ flag: Flag; created: boolean }> {
  await channelFor(ctx, channelId, 'read');
  const message = await ctx.db.getMessage(messageId);
  if (!message || message.channelId !== channelId)
    throw new NatterError('NATTER_MESSAGE_NOT_FOUND', undefined, { field: 'messageId' });
  if (message.deletedAt) throw new NatterError('NATTER_MESSAGE_DELETED');
  const now = ctx.deps.now();
  const result = await writeInChannel(ctx, channelId, () =>
    ctx.db.addFlag(
      {
        id: timeId('flg', now.getTime()),
        messageId,
        channelId,
        reporterId: ctx.actor.kind === 'user' ? ctx.actor.user.id : null,
        reason,
        createdAt: now.toISOString(),
      },
      (flag) => [event('message.flagged', channelId, { flag })],
    ),
  );
  if (result.created) {
    ctx.deps.relay.kick();
    await audit(ctx, {
      action: 'message.flag',
      targetType: 'message',
      targetId: messageId,
      before: null,
      after: result.flag,
    });
  }
  return result;
}

export interface QueueItem {
  flag: Flag;
  /** The flagged message as it is now (a tombstone once deleted). */
  message: Message | null;
}

/**
 * Open flags, oldest first, with their messages. Staff and the backend see the whole tenant (or
 * one channel with `channelId`); channel managers must name their channel.
 */
export async function moderationQueue(
  ctx: TenantCtx,
  query: { channelId?: string; limit: number; after?: string },
): Promise<Page<QueueItem>> {
  if (query.channelId !== undefined) await moderationScope(ctx, query.channelId);
  else if (!isStaff(ctx))
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Channel managers list the queue of one channel: pass channelId.');
  const page = await ctx.db.listFlags({ ...query, status: 'open' });
  const items = await Promise.all(
    page.items.map(async (flag) => ({ flag, message: await ctx.db.getMessage(flag.messageId) })),
  );
  return { items, next: page.next };
}

/** `dismiss` closes one flag; `delete_message` deletes the message and closes all its open flags. */
export type ResolveAction = 'dismiss' | 'delete_message';

/**
 * Resolves a flag. Resolving a flag that is already resolved returns it unchanged. Answers
 * NATTER_MESSAGE_NOT_FOUND (field `flagId`) for an unknown flag.
 */
export async function resolveFlag(
  ctx: TenantCtx,
  flagId: string,
  action: ResolveAction,
): Promise<{ flag: Flag; resolved: Flag[] }> {
  const flag = await ctx.db.getFlag(flagId);
  if (!flag) throw new NatterError('NATTER_MESSAGE_NOT_FOUND', 'No such flag.', { field: 'flagId' });
  await moderationScope(ctx, flag.channelId);
  if (flag.status !== 'open') return { flag, resolved: [] };
  const now = ctx.deps.now().toISOString();
  const resolution: FlagResolution = action === 'dismiss' ? 'dismissed' : 'message_deleted';
  let ids = [flag.id];
  if (action === 'delete_message') {
    await deleteFlaggedMessage(ctx, flag, now);
    ids = await openFlagIds(ctx, flag.messageId);
  }
  const resolved = await ctx.db.resolveFlags(
    ids,
    { resolution, resolvedBy: ctx.actor.kind === 'user' ? ctx.actor.user.id : null, resolvedAt: now },
    (flags) => [event('flag.resolved', flag.channelId, { flags })],
  );
  ctx.deps.relay.kick();
  for (const f of resolved) {
    await audit(ctx, {
      action: 'flag.resolve',
      targetType: 'flag',
      targetId: f.id,
      before: { ...f, status: 'open', resolvedAt: null, resolvedBy: null, resolution: null },
      after: f,
    });
  }
  return { flag: resolved.find((f) => f.id === flag.id) ?? (await ctx.db.getFlag(flagId)) ?? flag, resolved };
}

async function deleteFlaggedMessage(ctx: TenantCtx, flag: Flag, at: string): Promise<void> {
  const message = await ctx.db.getMessage(flag.messageId);
  if (!message || message.deletedAt) return;
  const deleted = await ctx.db.deleteMessage(message.id, at, (m) => [
    event('message.deleted', m.channelId, { message: m }),
  ]);
  await audit(ctx, {
    action: 'message.delete',
    targetType: 'message',
    targetId: message.id,
    before: message,
    after: deleted,
  });
}

async function openFlagIds(ctx: TenantCtx, messageId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await ctx.db.listFlags({ messageId, status: 'open', limit: 200, ...(after ? { after } : {}) });
    ids.push(...page.items.map((f) => f.id));
    after = page.next ?? undefined;
  } while (after);
  return ids;
}
