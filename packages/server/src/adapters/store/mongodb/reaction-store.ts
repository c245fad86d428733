/**
 * Reactions of a tenant on MongoDB. Each reaction is a document whose `_id` is
 * (tenant, message, user, type), so adding one twice is refused by the `_id` index; the message
 * keeps `reactionCounts` in step with an atomic `$inc` (MongoDB), so reads need no aggregation.
 */
import type { Message, Reaction } from '@natter/protocol';
import type { Emit } from '../../../ports/store.js';
import { lockKey, type TenantScope, write } from './connection.js';
import { docKey, fieldKey, type ReactionDoc, toMessage, toReaction } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { str } from './inputs.js';

type ReactionEmit = Emit<{ message: Message; reaction: Reaction }>;

export function addReaction(
  s: TenantScope,
  reaction: Reaction,
  emit?: ReactionEmit,
): Promise<{ message: Message; added: boolean } | null> {
  const { ctx, tenantId } = s;
  const r: Reaction = {
    messageId: str(reaction.messageId, 'messageId'),
    userId: str(reaction.userId, 'userId'),
    type: str(reaction.type, 'type'),
    createdAt: str(reaction.createdAt, 'createdAt'),
  };
  return write<{ message: Message; added: boolean } | null>(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.message(tenantId, r.messageId), async () => {
      const cols = await ctx.writable(tenantId);
      const messageKey = docKey(tenantId, r.messageId);
      const key = docKey(tenantId, r.messageId, r.userId, r.type);
      const [doc, existing] = await Promise.all([
        cols.messages.findOne({ _id: messageKey }),
        cols.reactions.findOne({ _id: key }, { projection: { _id: 1 } }),
      ]);
      if (!doc) return { result: null, events: [] };
      const message = toMessage(doc);
      if (existing) return { result: { message, added: false }, events: [] };
      const counts = { ...message.reactionCounts, [r.type]: (message.reactionCounts[r.type] ?? 0) + 1 };
      const updated: Message = { ...message, reactionCounts: counts };
      const events = emit ? emit({ message: updated, reaction: r }) : [];
      const row: ReactionDoc = { _id: key, tenantId, channelId: message.channelId, ...r };
      try {
        await cols.reactions.insertOne(row);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Added by another node in between.
        const now = await cols.messages.findOne({ _id: messageKey });
        return { result: now ? { message: toMessage(now), added: false } : null, events: [] };
      }
      await cols.messages.updateOne({ _id: messageKey }, { $inc: { [`reactionCounts.${fieldKey(r.type)}`]: 1 } });
      return { result: { message: updated, added: true }, events };
    }),
  );
}

export function removeReaction(
  s: TenantScope,
  messageId: string,
  userId: string,
  type: string,
  emit?: ReactionEmit,
): Promise<{ message: Message; removed: boolean } | null> {
  const { ctx, tenantId } = s;
  const mid = str(messageId, 'messageId');
  const key = docKey(tenantId, mid, str(userId, 'userId'), str(type, 'type'));
  return write<{ message: Message; removed: boolean } | null>(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.message(tenantId, mid), async () => {
      const cols = await ctx.writable(tenantId);
      const messageKey = docKey(tenantId, mid);
      const [doc, row] = await Promise.all([
        cols.messages.findOne({ _id: messageKey }),
        cols.reactions.findOne({ _id: key }),
      ]);
      if (!doc) return { result: null, events: [] };
      const message = toMessage(doc);
      if (!row) return { result: { message, removed: false }, events: [] };
      const counts = { ...message.reactionCounts };
      const left = (counts[type] ?? 1) - 1;
      // A type nobody uses any more disappears instead of showing 0.
      if (left > 0) counts[type] = left;
      else delete counts[type];
      const updated: Message = { ...message, reactionCounts: counts };
      const events = emit ? emit({ message: updated, reaction: toReaction(row) }) : [];
      const { deletedCount } = await cols.reactions.deleteOne({ _id: key });
      if (deletedCount === 0) {
        // Removed by another node in between.
        const now = await cols.messages.findOne({ _id: messageKey });
        return { result: now ? { message: toMessage(now), removed: false } : null, events: [] };
      }
      const field = `reactionCounts.${fieldKey(type)}`;
      await cols.messages.updateOne({ _id: messageKey }, { $inc: { [field]: -1 } });
      // Conditional, so an add racing in between keeps its count.
      await cols.messages.updateOne({ _id: messageKey, [field]: { $lte: 0 } }, { $unset: { [field]: '' } });
      return { result: { message: updated, removed: true }, events };
    }),
  );
}
