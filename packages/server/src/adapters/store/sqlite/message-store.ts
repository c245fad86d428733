/**
 * Messages of a tenant on SQLite: the append hot path, history, edits and tombstones.
 *
 * A channel's `last_seq` column is the sequence counter. Moving it inside the IMMEDIATE write
 * transaction (`SqliteContext.seqCounter`) gives every message the next number with no gap and no
 * duplicate, even across processes sharing the file: a failed write rolls the increment back.
 */
import type { Channel, Message } from '@natter/protocol';
import type { AppendResult, Emit, HistoryQuery, MessageInput, MessagePatch, Page } from '../../../ports/store.js';
import type { TenantScope } from './connection.js';
import { pageOf } from './paging.js';
import { channelMemoKey, MESSAGE_COLUMNS, type MessageRow, toMessage } from './rows.js';

const SELECT_BY_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE tenant_id = ? AND id = ?`;
// `IS` so that a null author (system messages) matches itself.
const SELECT_BY_CLIENT_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE tenant_id = ? AND channel_id = ? AND author_id IS ? AND client_msg_id = ?`;
// Only in slow-mode channels: when the author last sent (see `lastMessageAtBy`).
const MARK_SENT = `INSERT INTO slow_mode_marks (tenant_id, channel_id, user_id, last_sent_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (tenant_id, channel_id, user_id) DO UPDATE SET last_sent_at = max(last_sent_at, excluded.last_sent_at)`;
const BUMP_REPLY_COUNT = `UPDATE messages SET reply_count = reply_count + 1
  WHERE tenant_id = ? AND id = ? AND channel_id = ?`;
// Inserts nothing when the author used the client id before in the channel (the unique index
// `messages_by_client_id`); any other conflict fails.
const INSERT_MESSAGE = `INSERT INTO messages (tenant_id, channel_id, seq, id, client_msg_id,
    author_id, parent_id, type, text, attachments, custom, encrypted, reply_count,
    reaction_counts, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '{}', ?, ?)
  ON CONFLICT (tenant_id, channel_id, author_id, client_msg_id) WHERE client_msg_id IS NOT NULL DO NOTHING`;

/** The writes of sending a message: none changes what `SqliteContext.memo` holds. */
export const SEND_WRITES = [INSERT_MESSAGE, MARK_SENT, BUMP_REPLY_COUNT];
/** The statements of sending a message: none reads or writes `channels` (`SqliteContext.seqCounter`). */
export const SEND_STATEMENTS = [SELECT_BY_CLIENT_ID, ...SEND_WRITES];

export function appendMessage(s: TenantScope, input: MessageInput, emit?: Emit<Message>): Promise<AppendResult> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const clientMsgId = input.clientMsgId ?? null;
    // A user's repeated client id is found by the insert itself (the unique index); a null author
    // never conflicts there (NULLs differ), so system messages look first.
    if (clientMsgId !== null && input.authorId === null) {
      const found = storedByClientId(s, input, clientMsgId);
      if (found) return found;
    }
    const counter = ctx.seqCounter(tenantId, input.channelId);
    if (!counter) throw new Error(`channel ${input.channelId} not found`);
    const parentId = input.parentId ?? null;
    const message: Message = {
      id: input.id,
      channelId: input.channelId,
      seq: counter.lastSeq + 1,
      clientMsgId,
      authorId: input.authorId,
      type: input.type,
      text: input.text ?? null,
      attachments: input.attachments ?? [],
      custom: input.custom ?? {},
      encrypted: input.encrypted ?? null,
      parentId,
      replyCount: 0,
      reactionCounts: {},
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
      editedAt: null,
      deletedAt: null,
    };
    const inserted = ctx.run(
      INSERT_MESSAGE,
      tenantId,
      message.channelId,
      message.seq,
      message.id,
      clientMsgId,
      message.authorId,
      parentId,
      message.type,
      message.text,
      JSON.stringify(message.attachments),
      JSON.stringify(message.custom),
      message.encrypted === null ? null : JSON.stringify(message.encrypted),
      message.createdAt,
      message.updatedAt,
    );
    if (inserted === 0) {
      // The author sent this client id before: answer with that message, having taken no number.
      const found = clientMsgId === null ? null : storedByClientId(s, input, clientMsgId);
      if (found) return found;
      throw new Error(`message ${input.id} was not stored`);
    }
    ctx.countSeq(counter, message.seq, input.createdAt);
    // The remembered channel moves with the counter (which is not written through `ctx.run`).
    ctx.memoUpdate<Channel>(channelMemoKey(tenantId, input.channelId), (c) => ({
      ...c,
      lastSeq: message.seq,
      lastMessageAt: input.createdAt,
      updatedAt: input.createdAt,
    }));
    if (parentId !== null && ctx.run(BUMP_REPLY_COUNT, tenantId, parentId, input.channelId) === 0) {
      throw new Error(`parent message ${parentId} not found in channel ${input.channelId}`);
    }
    if (counter.slowModeSeconds > 0 && message.authorId !== null) {
      ctx.run(MARK_SENT, tenantId, message.channelId, message.authorId, message.createdAt);
    }
    if (emit) ctx.appendEvents(tenantId, emit(message));
    return { message, created: true };
  });
}

/** The message `input`'s author stored before under `clientMsgId` in its channel, as a repeated send. */
function storedByClientId(s: TenantScope, input: MessageInput, clientMsgId: string): AppendResult | null {
  const row = s.ctx.one<MessageRow>(SELECT_BY_CLIENT_ID, s.tenantId, input.channelId, input.authorId, clientMsgId);
  return row ? { message: toMessage(row), created: false } : null;
}

export function getMessage(s: TenantScope, id: string): Message | null {
  const row = s.ctx.one<MessageRow>(SELECT_BY_ID, s.tenantId, id);
  return row ? toMessage(row) : null;
}

export function listMessages(s: TenantScope, channelId: string, q: HistoryQuery): Message[] {
  const params: unknown[] = [s.tenantId, channelId];
  let where = 'tenant_id = ? AND channel_id = ?';
  if (q.parentId !== undefined) {
    where += ' AND parent_id = ?';
    params.push(q.parentId);
  } else if (!q.includeReplies) {
    where += ' AND parent_id IS NULL';
  }
  if (q.after !== undefined) {
    where += ' AND seq > ?';
    params.push(q.after);
  }
  if (q.before !== undefined) {
    where += ' AND seq < ?';
    params.push(q.before);
  }
  // Without `after`, the page is the newest `limit` (below `before` if given): read it backwards.
  const newestFirst = q.after === undefined;
  const rows = s.ctx.all<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where}
     ORDER BY seq ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
    ...params,
    q.limit,
  );
  if (newestFirst) rows.reverse();
  return rows.map(toMessage);
}

/** Replaces the given body fields and marks the message edited. Tombstones cannot be edited. */
export function updateMessage(
  s: TenantScope,
  id: string,
  patch: MessagePatch,
  emit?: Emit<Message>,
): Promise<Message | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const current = getMessage(s, id);
    if (!current || current.deletedAt !== null) return null;
    const next: Message = {
      ...current,
      text: patch.text === undefined ? current.text : patch.text,
      attachments: patch.attachments ?? current.attachments,
      custom: patch.custom ?? current.custom,
      encrypted: patch.encrypted === undefined ? current.encrypted : patch.encrypted,
      updatedAt: patch.updatedAt,
      editedAt: patch.updatedAt,
    };
    ctx.run(
      `UPDATE messages SET text = ?, attachments = ?, custom = ?, encrypted = ?, updated_at = ?,
         edited_at = ? WHERE tenant_id = ? AND id = ?`,
      next.text,
      JSON.stringify(next.attachments),
      JSON.stringify(next.custom),
      next.encrypted === null ? null : JSON.stringify(next.encrypted),
      next.updatedAt,
      next.editedAt,
      tenantId,
      id,
    );
    if (emit) ctx.appendEvents(tenantId, emit(next));
    return next;
  });
}

/** Turns the message into a tombstone. Deleting a tombstone again returns it and emits nothing. */
export function deleteMessage(s: TenantScope, id: string, at: string, emit?: Emit<Message>): Promise<Message | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const current = getMessage(s, id);
    if (!current || current.deletedAt !== null) return current;
    const tombstone: Message = {
      ...current,
      type: 'deleted',
      text: null,
      attachments: [],
      custom: {},
      encrypted: null,
      updatedAt: at,
      deletedAt: at,
    };
    ctx.run(
      `UPDATE messages SET type = 'deleted', text = NULL, attachments = '[]', custom = '{}',
         encrypted = NULL, updated_at = ?, deleted_at = ? WHERE tenant_id = ? AND id = ?`,
      at,
      at,
      tenantId,
      id,
    );
    if (emit) ctx.appendEvents(tenantId, emit(tombstone));
    return tombstone;
  });
}

/** When the author last sent in the channel while it was in slow mode (marked by appendMessage). */
export function lastMessageAtBy(s: TenantScope, channelId: string, authorId: string): string | null {
  const row = s.ctx.one<{ last_sent_at: string }>(
    'SELECT last_sent_at FROM slow_mode_marks WHERE tenant_id = ? AND channel_id = ? AND user_id = ?',
    s.tenantId,
    channelId,
    authorId,
  );
  return row?.last_sent_at ?? null;
}

/** Messages of others after `lastReadSeq`, not deleted, not thread replies. */
export function countUnread(s: TenantScope, channelId: string, userId: string, lastReadSeq: number): number {
  const row = s.ctx.one<{ n: number }>(
    `SELECT COUNT(*) AS n FROM messages
     WHERE tenant_id = ? AND channel_id = ? AND parent_id IS NULL AND seq > ?
       AND deleted_at IS NULL AND (author_id IS NULL OR author_id <> ?)`,
    s.tenantId,
    channelId,
    lastReadSeq,
    userId,
  );
  return row?.n ?? 0;
}

/** The newest channel-level message (tombstones included: they hold their place). */
export function lastTopLevelMessage(s: TenantScope, channelId: string): Message | null {
  const row = s.ctx.one<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages
     WHERE tenant_id = ? AND channel_id = ? AND parent_id IS NULL ORDER BY seq DESC LIMIT 1`,
    s.tenantId,
    channelId,
  );
  return row ? toMessage(row) : null;
}

/** Every message of the tenant by id (the `messages_by_id` index), replies and tombstones included. */
export function scanMessages(s: TenantScope, opts: { after?: string; limit: number }): Page<Message> {
  const rows = s.ctx.all<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
    s.tenantId,
    opts.after ?? '',
    opts.limit + 1,
  );
  return pageOf(rows.map(toMessage), opts.limit, (m) => m.id);
}

export function countMessages(s: TenantScope): number {
  return s.ctx.one<{ n: number }>('SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?', s.tenantId)?.n ?? 0;
}
