/**
 * Channels of a tenant on SQLite, and the "my channels" listing.
 */
import type { Channel, Member, MemberRole } from '@natter/protocol';
import type { ChannelInput, ChannelPatch, Emit, MyChannel, Page } from '../../../ports/store.js';
import { StoreConflictError } from '../../../ports/store.js';
import { now, type TenantScope } from './connection.js';
import { getMember, insertMembers } from './member-store.js';
import { countUnread, lastTopLevelMessage } from './message-store.js';
import { decodeActivityCursor, encodeActivityCursor, pageOf } from './paging.js';
import { CHANNEL_COLUMNS, type ChannelRow, channelMemoKey, toChannel, toMember } from './rows.js';

export function createChannel(
  s: TenantScope,
  input: ChannelInput,
  createdAt: string,
  emit?: Emit<Channel>,
): Promise<Channel> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    // Checked inside the IMMEDIATE transaction, so no other writer can slip in between.
    if (ctx.one('SELECT 1 FROM channels WHERE tenant_id = ? AND id = ?', tenantId, input.id)) {
      throw new StoreConflictError('channel', input.id);
    }
    const directKey = input.directKey ?? null;
    if (directKey !== null && findDirectChannel(s, directKey)) {
      throw new StoreConflictError('channel', directKey);
    }
    ctx.run(
      `INSERT INTO channels (tenant_id, id, type, name, custom, created_by, direct_key,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      tenantId,
      input.id,
      input.type,
      input.name ?? null,
      JSON.stringify(input.custom ?? {}),
      input.createdBy ?? null,
      directKey,
      createdAt,
      createdAt,
    );
    insertMembers(s, input.id, input.members, createdAt);
    const channel = mustGetChannel(s, input.id);
    if (emit) ctx.appendEvents(tenantId, emit(channel));
    return channel;
  });
}

/**
 * What getChannel and getMember read on every send and frame: both remembered (see
 * `SqliteContext.memo`); a send keeps its channel's entry current (`appendMessage`).
 */
export function getChannelWithMember(
  s: TenantScope,
  id: string,
  userId: string,
): { channel: Channel; member: Member | null } | null {
  const channel = getChannel(s, id);
  return channel ? { channel, member: getMember(s, id, userId) } : null;
}

export function getChannel(s: TenantScope, id: string): Channel | null {
  return s.ctx.memo(channelMemoKey(s.tenantId, id), () => {
    const row = s.ctx.one<ChannelRow>(
      `SELECT ${CHANNEL_COLUMNS} FROM channels WHERE tenant_id = ? AND id = ?`,
      s.tenantId,
      id,
    );
    return row ? toChannel(row) : null;
  });
}

function mustGetChannel(s: TenantScope, id: string): Channel {
  const channel = getChannel(s, id);
  if (!channel) throw new Error(`channel ${id} vanished inside its own transaction`);
  return channel;
}

export function findDirectChannel(s: TenantScope, directKey: string): Channel | null {
  const row = s.ctx.one<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM channels WHERE tenant_id = ? AND direct_key = ?`,
    s.tenantId,
    directKey,
  );
  return row ? toChannel(row) : null;
}

/** Applies the fields of `patch` that are not undefined; `custom` is replaced, not merged. */
export function updateChannel(
  s: TenantScope,
  id: string,
  patch: ChannelPatch,
  emit?: Emit<Channel>,
): Promise<Channel | null> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const current = getChannel(s, id);
    if (!current) return null;
    const next: Channel = {
      ...current,
      name: patch.name === undefined ? current.name : patch.name,
      custom: patch.custom ?? current.custom,
      frozen: patch.frozen ?? current.frozen,
      slowModeSeconds: patch.slowModeSeconds ?? current.slowModeSeconds,
      endedAt: patch.endedAt === undefined ? current.endedAt : patch.endedAt,
      updatedAt: now(),
    };
    ctx.run(
      `UPDATE channels SET name = ?, custom = ?, frozen = ?, slow_mode_seconds = ?, ended_at = ?, updated_at = ?
       WHERE tenant_id = ? AND id = ?`,
      next.name,
      JSON.stringify(next.custom),
      next.frozen ? 1 : 0,
      next.slowModeSeconds,
      next.endedAt,
      next.updatedAt,
      tenantId,
      id,
    );
    if (emit) ctx.appendEvents(tenantId, emit(next));
    return next;
  });
}

/**
 * Deletes the channel; its members, messages, reactions, channel-scoped sanctions and flags go by
 * foreign-key cascade.
 */
export function deleteChannel(s: TenantScope, id: string, emit?: Emit<Channel>): Promise<boolean> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const channel = getChannel(s, id);
    if (!channel) return false;
    ctx.run('DELETE FROM channels WHERE tenant_id = ? AND id = ?', tenantId, id);
    if (emit) ctx.appendEvents(tenantId, emit(channel));
    return true;
  });
}

export function listPublicChannels(s: TenantScope, opts: { limit: number; after?: string }): Page<Channel> {
  const rows = s.ctx.all<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM channels
     WHERE tenant_id = ? AND type = 'public' AND id > ? ORDER BY id LIMIT ?`,
    s.tenantId,
    opts.after ?? '',
    opts.limit + 1,
  );
  return pageOf(rows.map(toChannel), opts.limit, (c) => c.id);
}

interface MyChannelRow extends ChannelRow {
  member_role: MemberRole;
  member_last_read_seq: number;
  member_last_read_at: string | null;
  member_joined_at: string;
}

const MY_CHANNELS = `SELECT c.*, m.role AS member_role, m.last_read_seq AS member_last_read_seq,
    m.last_read_at AS member_last_read_at, m.joined_at AS member_joined_at
  FROM members m JOIN channels c ON c.tenant_id = m.tenant_id AND c.id = m.channel_id
  WHERE m.tenant_id = ? AND m.user_id = ?`;
// Newest activity first; channels without messages (NULL sorts lowest) come last, by id.
const MY_CHANNELS_ORDER = 'ORDER BY c.last_message_at DESC, c.id ASC LIMIT ?';

/**
 * The user's channels by last activity. The cursor holds the last item's sort key; a channel
 * that gets a new message between two page reads moves up and may be seen twice or skipped, as
 * with any listing ordered by a changing key.
 */
export function listMyChannels(
  s: TenantScope,
  userId: string,
  opts: { limit: number; after?: string },
): Page<MyChannel> {
  // One snapshot for the page and its per-channel counts.
  return s.ctx.read(() => readMyChannels(s, userId, opts));
}

function readMyChannels(s: TenantScope, userId: string, opts: { limit: number; after?: string }): Page<MyChannel> {
  const { ctx, tenantId } = s;
  const limit = opts.limit + 1;
  let rows: MyChannelRow[];
  if (opts.after === undefined) {
    rows = ctx.all(`${MY_CHANNELS} ${MY_CHANNELS_ORDER}`, tenantId, userId, limit);
  } else {
    const cursor = decodeActivityCursor(opts.after);
    rows =
      cursor.lastMessageAt === null
        ? ctx.all(
            `${MY_CHANNELS} AND c.last_message_at IS NULL AND c.id > ? ${MY_CHANNELS_ORDER}`,
            tenantId,
            userId,
            cursor.id,
            limit,
          )
        : ctx.all(
            `${MY_CHANNELS} AND (c.last_message_at < ? OR (c.last_message_at = ? AND c.id > ?)
               OR c.last_message_at IS NULL) ${MY_CHANNELS_ORDER}`,
            tenantId,
            userId,
            cursor.lastMessageAt,
            cursor.lastMessageAt,
            cursor.id,
            limit,
          );
  }
  const page = pageOf(rows, opts.limit, (r) => encodeActivityCursor({ lastMessageAt: r.last_message_at, id: r.id }));
  return {
    next: page.next,
    items: page.items.map((r) => {
      const membership = toMember({
        channel_id: r.id,
        user_id: userId,
        role: r.member_role,
        last_read_seq: r.member_last_read_seq,
        last_read_at: r.member_last_read_at,
        joined_at: r.member_joined_at,
      });
      return {
        channel: toChannel(r),
        membership,
        unreadCount: countUnread(s, r.id, userId, membership.lastReadSeq),
        lastMessage: lastTopLevelMessage(s, r.id),
      };
    }),
  };
}
