/**
 * Messages of a tenant on MongoDB: reads, history, edits and tombstones. Appends are in
 * append-queue.ts.
 *
 * A channel's last seq is not a counter: it is the seq of its newest message, read with one
 * indexed query (`tenant_channel_seq`, newest first, limit 1). Appends take seqs by inserting
 * under the unique index, so no counter can drift from the messages or lose an update.
 */
import type { Message } from '@natter/protocol';
import type { Filter } from 'mongodb';
import type { Emit, HistoryQuery, MessagePatch, Page } from '../../../ports/store.js';
import { lockKey, type TenantCollections, type TenantScope, write } from './connection.js';
import { type ChannelHead, docKey, type MessageDoc, toMessage } from './documents.js';
import { limitOf, optNum, optStr, str } from './inputs.js';
import { pageOf } from './paging.js';

/** The newest message of the channel (replies included), or null when it has none. */
export async function headOf(
  cols: TenantCollections,
  tenantId: string,
  channelId: string,
): Promise<ChannelHead | null> {
  const [doc] = await cols.messages
    .find({ tenantId, channelId }, { projection: { _id: 0, seq: 1, createdAt: 1 } })
    .sort({ seq: -1 })
    .limit(1)
    .toArray();
  return doc ? { seq: doc.seq, createdAt: doc.createdAt } : null;
}

/** The newest channel-level message (tombstones included: they hold their place). */
export async function lastTopLevelMessage(
  cols: TenantCollections,
  tenantId: string,
  channelId: string,
): Promise<MessageDoc | null> {
  const [doc] = await cols.messages.find({ tenantId, channelId, parentId: null }).sort({ seq: -1 }).limit(1).toArray();
  return doc ?? null;
}

/**
 * The latest `createdAt` of the author's messages appended while the channel was in slow mode
 * (replies and since-deleted messages included): the mark append-queue.ts raises with `$max`
 * for slow-mode channels only, so other appends pay nothing.
 */
export async function lastMessageAtBy(s: TenantScope, channelId: string, authorId: string): Promise<string | null> {
  const key = docKey(s.tenantId, str(channelId, 'channelId'), str(authorId, 'authorId'));
  const mark = await s.ctx.readable(s.tenantId).slowModeMarks.findOne({ _id: key });
  return mark?.lastSentAt ?? null;
}

/** Messages of others after `lastReadSeq`, not deleted, not thread replies. */
export function countUnread(
  cols: TenantCollections,
  tenantId: string,
  channelId: string,
  userId: string,
  lastReadSeq: number,
): Promise<number> {
  return cols.messages.countDocuments({
    tenantId,
    channelId,
    seq: { $gt: lastReadSeq },
    parentId: null,
    deletedAt: null,
    // `$ne` also matches a null author (system messages).
    authorId: { $ne: userId },
  });
}

export async function getMessage(s: TenantScope, id: string): Promise<Message | null> {
  const cols = s.ctx.readable(s.tenantId);
  const doc = await cols.messages.findOne({ _id: docKey(s.tenantId, str(id, 'id')) });
  return doc ? toMessage(doc) : null;
}

export async function listMessages(s: TenantScope, channelId: string, q: HistoryQuery): Promise<Message[]> {
  const { tenantId } = s;
  const limit = limitOf(q.limit);
  if (limit === 0) return [];
  const filter: Filter<MessageDoc> = { tenantId, channelId: str(channelId, 'channelId') };
  const parentId = optStr(q.parentId, 'parentId');
  if (parentId !== undefined) filter.parentId = parentId;
  else if (!q.includeReplies) filter.parentId = null;
  const after = optNum(q.after, 'after');
  const before = optNum(q.before, 'before');
  if (after !== undefined || before !== undefined) {
    filter.seq = {
      ...(after === undefined ? {} : { $gt: after }),
      ...(before === undefined ? {} : { $lt: before }),
    };
  }
  // Without `after`, the page is the newest `limit` (below `before` if given): read it backwards.
  const newestFirst = after === undefined;
  const dir = newestFirst ? -1 : 1;
  const cols = s.ctx.readable(tenantId);
  const docs = await cols.messages.find(filter).sort({ seq: dir }).limit(limit).toArray();
  if (newestFirst) docs.reverse();
  return docs.map(toMessage);
}

/** Replaces the given body fields and marks the message edited. Tombstones cannot be edited. */
export function updateMessage(
  s: TenantScope,
  id: string,
  patch: MessagePatch,
  emit?: Emit<Message>,
): Promise<Message | null> {
  const { ctx, tenantId } = s;
  const messageId = str(id, 'id');
  const updatedAt = str(patch.updatedAt, 'updatedAt');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.message(tenantId, messageId), async () => {
      const cols = await ctx.writable(tenantId);
      const doc = await cols.messages.findOne({ _id: docKey(tenantId, messageId) });
      if (!doc || doc.deletedAt !== null) return { result: null, events: [] };
      const current = toMessage(doc);
      const next: Message = {
        ...current,
        text: patch.text === undefined ? current.text : patch.text,
        attachments: patch.attachments ?? current.attachments,
        custom: patch.custom ?? current.custom,
        encrypted: patch.encrypted === undefined ? current.encrypted : patch.encrypted,
        updatedAt,
        editedAt: updatedAt,
      };
      const events = emit ? emit(next) : [];
      const { matchedCount } = await cols.messages.updateOne(
        { _id: doc._id, deletedAt: null },
        {
          $set: {
            text: next.text,
            attachments: JSON.stringify(next.attachments),
            custom: JSON.stringify(next.custom),
            encrypted: next.encrypted === null ? null : JSON.stringify(next.encrypted),
            updatedAt,
            editedAt: updatedAt,
          },
        },
      );
      // Deleted by another node in between: nothing was edited.
      return matchedCount > 0 ? { result: next, events } : { result: null, events: [] };
    }),
  );
}

/** Turns the message into a tombstone. Deleting a tombstone again returns it and emits nothing. */
export function deleteMessage(s: TenantScope, id: string, at: string, emit?: Emit<Message>): Promise<Message | null> {
  const { ctx, tenantId } = s;
  const messageId = str(id, 'id');
  const deletedAt = str(at, 'at');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.message(tenantId, messageId), async () => {
      const cols = await ctx.writable(tenantId);
      const key = docKey(tenantId, messageId);
      const doc = await cols.messages.findOne({ _id: key });
      if (!doc) return { result: null, events: [] };
      const current = toMessage(doc);
      if (current.deletedAt !== null) return { result: current, events: [] };
      const tombstone: Message = {
        ...current,
        type: 'deleted',
        text: null,
        attachments: [],
        custom: {},
        encrypted: null,
        updatedAt: deletedAt,
        deletedAt,
      };
      const events = emit ? emit(tombstone) : [];
      const { matchedCount } = await cols.messages.updateOne(
        { _id: key, deletedAt: null },
        {
          $set: {
            type: 'deleted',
            text: null,
            attachments: '[]',
            custom: '{}',
            encrypted: null,
            updatedAt: deletedAt,
            deletedAt,
          },
        },
      );
      if (matchedCount > 0) return { result: tombstone, events };
      // Deleted by another node in between: return its tombstone, with no events of ours.
      const again = await cols.messages.findOne({ _id: key });
      return { result: again ? toMessage(again) : null, events: [] };
    }),
  );
}

/**
 * Every message of the tenant (all channels, replies and tombstones), by message id: string order
 * by code unit, which for the ASCII ids the server generates is the binary order SQLite uses.
 */
export async function scanMessages(s: TenantScope, opts: { after?: string; limit: number }): Promise<Page<Message>> {
  const limit = limitOf(opts.limit);
  const docs = await s.ctx
    .readable(s.tenantId)
    .messages.find({ tenantId: s.tenantId, id: { $gt: optStr(opts.after, 'after') ?? '' } })
    .sort({ id: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toMessage), limit, (m) => m.id);
}

export function countMessages(s: TenantScope): Promise<number> {
  return s.ctx.readable(s.tenantId).messages.countDocuments({ tenantId: s.tenantId });
}
