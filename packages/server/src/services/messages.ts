/**
 * THE message pipeline. Every message write — REST or realtime, user or backend — goes through
 * here: validate → authorize → hooks → persist with the next channel sequence and its event in
 * the outbox (one atomic write) → kick the relay, which publishes to the bus that fans out.
 */
import type { Attachment, CustomData, EncryptedEnvelope, Message } from '@natter/protocol';
import { event } from '../domain/events.js';
import { timeId } from '../domain/ids.js';
import { checkCustom, checkText } from '../domain/limits.js';
import { invalid, NatterError } from '../errors.js';
import type { MessageInput } from '../ports/store.js';
import { audit } from './audit.js';
import { type AuthorizeInput, actorUserId, authorize, channelFor, type TenantCtx, writeInChannel } from './context.js';

export interface SendInput {
  text?: string;
  attachments?: Attachment[];
  custom?: CustomData;
  encrypted?: EncryptedEnvelope;
  clientMsgId?: string;
  parentId?: string;
  /** System message (tenant backend only). */
  system?: boolean;
  /** Author when the tenant backend sends on behalf of a user. */
  userId?: string;
}

export interface EditInput {
  text?: string;
  attachments?: Attachment[];
  custom?: CustomData;
  encrypted?: EncryptedEnvelope;
}

function checkBody(ctx: TenantCtx, input: EditInput, requireContent: boolean): void {
  const { limits } = ctx.deps;
  if (input.text !== undefined) checkText('text', input.text, limits);
  if (input.custom !== undefined) checkCustom('custom', input.custom, limits);
  if (input.encrypted && (input.text || input.attachments?.length)) {
    throw invalid('encrypted', 'cannot be combined with text or attachments: encrypt them into the envelope');
  }
  const hasContent =
    (input.text !== undefined && input.text.trim() !== '') ||
    (input.attachments?.length ?? 0) > 0 ||
    input.encrypted !== undefined;
  if (requireContent && !hasContent) throw invalid('text', 'is required (or attachments, or encrypted)');
}

function writable(channel: { frozen: boolean; endedAt: string | null }): void {
  if (channel.endedAt) throw new NatterError('NATTER_CHANNEL_ENDED');
  if (channel.frozen) throw new NatterError('NATTER_CHANNEL_FROZEN');
}

export async function sendMessage(
  ctx: TenantCtx,
  channelId: string,
  input: SendInput,
): Promise<{ message: Message; created: boolean }> {
  // 1. validate
  checkBody(ctx, input, true);
  if (input.system && ctx.actor.kind !== 'server') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'Only the tenant backend sends system messages.');
  }
  if (input.userId !== undefined && ctx.actor.kind !== 'server') {
    throw invalid('userId', 'may only be set by the tenant backend');
  }
  // 2. authorize. channelFor also applies the user's moderation state (bans, mutes, blocks, slow
  // mode): the final rules deny `send` on it, so it is not looked up a second time here.
  const { channel } = await channelFor(ctx, channelId, input.system ? 'sendSystem' : 'send');
  writable(channel);
  let authorId = actorUserId(ctx.actor);
  if (ctx.actor.kind === 'server' && !input.system) {
    if (!input.userId) throw invalid('userId', 'is required when the backend sends a non-system message');
    if (!(await ctx.db.getMember(channelId, input.userId))) {
      throw new NatterError('NATTER_MEMBER_NOT_FOUND', `User ${input.userId} is not a member.`, {
        field: 'userId',
      });
    }
    authorId = input.userId;
  }
  if (input.parentId !== undefined) {
    const parent = await ctx.db.getMessage(input.parentId);
    if (!parent || parent.channelId !== channelId) {
      throw new NatterError('NATTER_MESSAGE_NOT_FOUND', 'The thread parent is not in this channel.', {
        field: 'parentId',
      });
    }
    if (parent.parentId !== null) throw invalid('parentId', 'is itself a reply: threads are one level deep');
  }
  const now = ctx.deps.now();
  let record: MessageInput = {
    id: timeId('msg', now.getTime()),
    channelId,
    clientMsgId: input.clientMsgId ?? null,
    authorId,
    type: input.system ? 'system' : 'regular',
    text: input.text ?? null,
    attachments: input.attachments ?? [],
    custom: input.custom ?? {},
    encrypted: input.encrypted ?? null,
    parentId: input.parentId ?? null,
    createdAt: now.toISOString(),
  };
  // 3. hooks
  for (const hook of ctx.deps.hooks.beforeSend) {
    record = (await hook({ actor: ctx.actor, tenantId: ctx.db.tenantId, input: record })) ?? record;
  }
  // 4. persist with the event, atomically
  const result = await writeInChannel(ctx, channelId, () =>
    ctx.db.appendMessage(record, (message) => [event('message.new', channelId, { message })]),
  );
  // 5. publish
  if (result.created) {
    ctx.deps.relay.kick();
    for (const hook of ctx.deps.hooks.afterSend) {
      await Promise.resolve(hook({ actor: ctx.actor, tenantId: ctx.db.tenantId, message: result.message })).catch(
        () => {},
      );
    }
  }
  return result;
}

async function messageFor(ctx: TenantCtx, channelId: string, messageId: string) {
  // channelFor judged the user's bans and mutes with the rest (the final rules): the restrictions
  // it read go along, so a later check on the message does not read them again.
  const { channel, member, restrictions } = await channelFor(ctx, channelId, 'read');
  const message = await ctx.db.getMessage(messageId);
  if (!message || message.channelId !== channelId) {
    throw new NatterError('NATTER_MESSAGE_NOT_FOUND', undefined, { field: 'messageId' });
  }
  return { channel, member, message, restrictions };
}

/** The tenant's policy on a message action; throws the precise error (muted, edit window…) when denied. */
function allow(
  ctx: TenantCtx,
  action: 'editMessage' | 'deleteMessage' | 'react',
  input: AuthorizeInput,
): Promise<void> {
  return authorize(ctx, action, input);
}

export async function getMessage(ctx: TenantCtx, channelId: string, messageId: string): Promise<Message> {
  return (await messageFor(ctx, channelId, messageId)).message;
}

export async function editMessage(
  ctx: TenantCtx,
  channelId: string,
  messageId: string,
  input: EditInput,
): Promise<Message> {
  checkBody(ctx, input, false);
  const found = await messageFor(ctx, channelId, messageId);
  await allow(ctx, 'editMessage', found);
  writable(found.channel);
  if (found.message.deletedAt) throw new NatterError('NATTER_MESSAGE_DELETED');
  if (found.message.type === 'system' && ctx.actor.kind !== 'server') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', 'System messages are edited by the backend only.');
  }
  const updated = await ctx.db.updateMessage(
    messageId,
    { ...input, updatedAt: ctx.deps.now().toISOString() },
    (message) => [event('message.updated', channelId, { message })],
  );
  if (!updated) throw new NatterError('NATTER_MESSAGE_NOT_FOUND', undefined, { field: 'messageId' });
  ctx.deps.relay.kick();
  return updated;
}

export async function deleteMessage(ctx: TenantCtx, channelId: string, messageId: string): Promise<Message> {
  const found = await messageFor(ctx, channelId, messageId);
  await allow(ctx, 'deleteMessage', found);
  if (found.message.deletedAt) return found.message;
  const deleted = await ctx.db.deleteMessage(messageId, ctx.deps.now().toISOString(), (message) => [
    event('message.deleted', channelId, { message }),
  ]);
  if (!deleted) throw new NatterError('NATTER_MESSAGE_NOT_FOUND', undefined, { field: 'messageId' });
  ctx.deps.relay.kick();
  // Deleting someone else's message is a moderation action.
  if (found.message.authorId !== actorUserId(ctx.actor)) {
    await audit(ctx, {
      action: 'message.delete',
      targetType: 'message',
      targetId: messageId,
      before: found.message,
      after: deleted,
    });
  }
  return deleted;
}

export async function react(
  ctx: TenantCtx,
  channelId: string,
  messageId: string,
  type: string,
  add: boolean,
  asUserId?: string,
): Promise<Message> {
  const found = await messageFor(ctx, channelId, messageId);
  if (asUserId !== undefined && ctx.actor.kind !== 'server') {
    throw invalid('userId', 'may only be set by the tenant backend');
  }
  const userId = actorUserId(ctx.actor) ?? asUserId;
  if (!userId) throw invalid('userId', 'is required when the backend reacts');
  if (ctx.actor.kind === 'user') {
    await allow(ctx, 'react', found);
  } else if (add && !(await ctx.db.getMember(channelId, userId))) {
    // As for sends: the backend reacts only for a member, never for an unknown user id.
    throw new NatterError('NATTER_MEMBER_NOT_FOUND', `User ${userId} is not a member.`, { field: 'userId' });
  }
  if (found.message.deletedAt) throw new NatterError('NATTER_MESSAGE_DELETED');
  const result = add
    ? await writeInChannel(ctx, channelId, () =>
        ctx.db.addReaction({ messageId, userId, type, createdAt: ctx.deps.now().toISOString() }, (r) => [
          event('reaction.added', channelId, r),
        ]),
      )
    : await ctx.db.removeReaction(messageId, userId, type, (r) => [event('reaction.removed', channelId, r)]);
  if (!result) throw new NatterError('NATTER_MESSAGE_NOT_FOUND', undefined, { field: 'messageId' });
  ctx.deps.relay.kick();
  return result.message;
}

export interface HistoryInput {
  before?: number;
  after?: number;
  limit?: number;
}

export async function history(
  ctx: TenantCtx,
  channelId: string,
  query: HistoryInput & { parentId?: string },
): Promise<Message[]> {
  await channelFor(ctx, channelId, 'read');
  if (query.before !== undefined && query.after !== undefined) {
    throw invalid('before', 'cannot be combined with after');
  }
  if (query.parentId !== undefined) await messageFor(ctx, channelId, query.parentId);
  return ctx.db.listMessages(channelId, {
    limit: query.limit ?? 50,
    ...(query.before !== undefined ? { before: query.before } : {}),
    ...(query.after !== undefined ? { after: query.after } : {}),
    ...(query.parentId !== undefined ? { parentId: query.parentId } : {}),
  });
}
