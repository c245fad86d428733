/**
 * Reactions of a tenant on SQLite. Each reaction is a row; the message row keeps
 * `reaction_counts` (type → count) in step, in the same transaction, so reads need no join.
 */
import type { Message, Reaction } from '@natter/protocol';
import type { Emit } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { getMessage } from './message-store.js';
import { type ReactionRow, toReaction } from './rows.js';

type ReactionEmit = Emit<{ message: Message; reaction: Reaction }>;

export function addReaction(
  s: TenantScope,
  reaction: Reaction,
  emit?: ReactionEmit,
): Promise<{ message: Message; added: boolean } | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const message = getMessage(s, reaction.messageId);
    if (!message) return null;
    const inserted = ctx.run(
      `INSERT INTO reactions (tenant_id, message_id, user_id, type, created_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      tenantId,
      reaction.messageId,
      reaction.userId,
      reaction.type,
      reaction.createdAt,
    );
    if (inserted === 0) return { message, added: false };
    const counts = { ...message.reactionCounts };
    counts[reaction.type] = (counts[reaction.type] ?? 0) + 1;
    const updated = saveCounts(s, message, counts);
    if (emit) ctx.appendEvents(tenantId, emit({ message: updated, reaction }));
    return { message: updated, added: true };
  });
}

export function removeReaction(
  s: TenantScope,
  messageId: string,
  userId: string,
  type: string,
  emit?: ReactionEmit,
): Promise<{ message: Message; removed: boolean } | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const message = getMessage(s, messageId);
    if (!message) return null;
    const row = ctx.one<ReactionRow>(
      `DELETE FROM reactions WHERE tenant_id = ? AND message_id = ? AND user_id = ? AND type = ?
       RETURNING message_id, user_id, type, created_at`,
      tenantId,
      messageId,
      userId,
      type,
    );
    if (!row) return { message, removed: false };
    const counts = { ...message.reactionCounts };
    const left = (counts[type] ?? 1) - 1;
    // A type nobody uses any more disappears instead of showing 0.
    if (left > 0) counts[type] = left;
    else delete counts[type];
    const updated = saveCounts(s, message, counts);
    if (emit) ctx.appendEvents(tenantId, emit({ message: updated, reaction: toReaction(row) }));
    return { message: updated, removed: true };
  });
}

function saveCounts(s: TenantScope, message: Message, counts: Record<string, number>): Message {
  s.ctx.run(
    'UPDATE messages SET reaction_counts = ? WHERE tenant_id = ? AND id = ?',
    JSON.stringify(counts),
    s.tenantId,
    message.id,
  );
  return { ...message, reactionCounts: counts };
}
