/**
 * Channels of a tenant on MongoDB, and the "my channels" listing.
 *
 * `lastSeq` and `lastMessageAt` are read from the newest message (see message-store.ts), never
 * from a counter on the channel document, so they are exact on every node and engine.
 */
import type { Channel, MemberRole } from '@natter/protocol';
import type { Filter } from 'mongodb';
import type { ChannelInput, ChannelPatch, Emit, MyChannel, Page } from '../../../ports/store.js';
import { StoreConflictError } from '../../../ports/store.js';
import { lockKey, now, type TenantCollections, type TenantScope, write } from './connection.js';
import {
  type ChannelDoc,
  docKey,
  type MemberDoc,
  memberDoc,
  toChannel,
  toMember,
  toMessage,
  uniqueKeyOf,
} from './documents.js';
import { isDuplicateKey } from './errors.js';
import { limitOf, num, optStr, str, strOrNull } from './inputs.js';
import { countUnread, headOf, lastTopLevelMessage } from './message-store.js';
import { decodeActivityCursor, encodeActivityCursor, pageOf } from './paging.js';

/**
 * Creates the channel document (its `_id` and `uniqueKey` indexes refuse an existing id or direct
 * key), then its members.
 */
export function createChannel(
  s: TenantScope,
  input: ChannelInput,
  createdAt: string,
  emit?: Emit<Channel>,
): Promise<Channel> {
  const { ctx, tenantId } = s;
  const id = str(input.id, 'id');
  const directKey = strOrNull(input.directKey, 'directKey');
  const at = str(createdAt, 'createdAt');
  // Repeated user ids: the first entry wins, as with SQLite's ON CONFLICT DO NOTHING.
  const members = new Map<string, MemberRole>();
  input.members.forEach((m, i) => {
    const userId = str(m.userId, `members[${i}].userId`);
    if (!members.has(userId)) members.set(userId, str(m.role, `members[${i}].role`) as MemberRole);
  });
  const doc: ChannelDoc = {
    _id: docKey(tenantId, id),
    tenantId,
    id,
    type: str(input.type, 'type') as Channel['type'],
    name: strOrNull(input.name, 'name'),
    custom: JSON.stringify(input.custom ?? {}),
    createdBy: strOrNull(input.createdBy, 'createdBy'),
    directKey,
    uniqueKey: uniqueKeyOf(id, directKey),
    activityAt: null,
    frozen: false,
    slowModeSeconds: 0,
    endedAt: null,
    memberCount: members.size,
    createdAt: at,
    updatedAt: at,
  };
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.channel(tenantId, id), async () => {
      const cols = await ctx.writable(tenantId);
      // Checked first so that a taken id costs no emit; the unique indexes decide races.
      const [byId, byKey] = await Promise.all([
        cols.channels.findOne({ _id: doc._id }, { projection: { _id: 1 } }),
        directKey === null
          ? null
          : cols.channels.findOne({ tenantId, uniqueKey: doc.uniqueKey }, { projection: { _id: 1 } }),
      ]);
      if (byId) throw new StoreConflictError('channel', id);
      if (byKey) throw new StoreConflictError('channel', directKey ?? id);
      const channel = toChannel(doc, null);
      const events = emit ? emit(channel) : [];
      try {
        await cols.channels.insertOne(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const taken = await cols.channels.findOne({ _id: doc._id }, { projection: { _id: 1 } });
        throw new StoreConflictError('channel', taken || directKey === null ? id : directKey);
      }
      if (members.size > 0) {
        // Replace, not insert: memberships left behind by an interrupted delete of a channel with
        // the same id must not survive into the new one.
        const docs: MemberDoc[] = [...members].map(([userId, role]) =>
          memberDoc(tenantId, { channelId: id, userId, role, lastReadSeq: 0, lastReadAt: null, joinedAt: at }),
        );
        await cols.members.bulkWrite(
          docs.map((m) => ({ replaceOne: { filter: { _id: m._id }, replacement: m, upsert: true } })),
          { ordered: false },
        );
      }
      return { result: channel, events };
    }),
  );
}

export async function getChannel(s: TenantScope, id: string): Promise<Channel | null> {
  const channelId = str(id, 'id');
  const cols = s.ctx.readable(s.tenantId);
  const [doc, head] = await Promise.all([
    cols.channels.findOne({ _id: docKey(s.tenantId, channelId) }),
    headOf(cols, s.tenantId, channelId),
  ]);
  return doc ? toChannel(doc, head) : null;
}

export async function findDirectChannel(s: TenantScope, directKey: string): Promise<Channel | null> {
  const cols = s.ctx.readable(s.tenantId);
  const doc = await cols.channels.findOne({
    tenantId: s.tenantId,
    uniqueKey: uniqueKeyOf('', str(directKey, 'directKey')),
  });
  return doc ? toChannel(doc, await headOf(cols, s.tenantId, doc.id)) : null;
}

/** Applies the fields of `patch` that are not undefined; `custom` is replaced, not merged. */
export function updateChannel(
  s: TenantScope,
  id: string,
  patch: ChannelPatch,
  emit?: Emit<Channel>,
): Promise<Channel | null> {
  const { ctx, tenantId } = s;
  const channelId = str(id, 'id');
  const set: Partial<ChannelDoc> = {};
  if (patch.name !== undefined) set.name = strOrNull(patch.name, 'name');
  if (patch.custom !== undefined) set.custom = JSON.stringify(patch.custom);
  if (patch.frozen !== undefined) set.frozen = patch.frozen === true;
  if (patch.slowModeSeconds !== undefined) set.slowModeSeconds = num(patch.slowModeSeconds, 'slowModeSeconds');
  if (patch.endedAt !== undefined) set.endedAt = strOrNull(patch.endedAt, 'endedAt');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.channel(tenantId, channelId), async () => {
      const cols = await ctx.writable(tenantId);
      const key = docKey(tenantId, channelId);
      const [doc, head] = await Promise.all([cols.channels.findOne({ _id: key }), headOf(cols, tenantId, channelId)]);
      if (!doc) return { result: null, events: [] };
      set.updatedAt = now();
      const next = toChannel({ ...doc, ...set }, head);
      const events = emit ? emit(next) : [];
      const { matchedCount } = await cols.channels.updateOne({ _id: key }, { $set: set });
      return matchedCount > 0 ? { result: next, events } : { result: null, events: [] };
    }),
  );
}

/**
 * Deletes the channel's messages, then their reactions and flags, the channel's bans, mutes,
 * slow-mode marks and members, then the channel, so a deletion cut short can be run again (SQLite does this by
 * foreign-key cascade in one transaction). Appends of this process wait for it (channel lock); an
 * append from another node racing it can leave messages nobody reads, removed with the tenant.
 */
export function deleteChannel(s: TenantScope, id: string, emit?: Emit<Channel>): Promise<boolean> {
  const { ctx, tenantId } = s;
  const channelId = str(id, 'id');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.channel(tenantId, channelId), async () => {
      const cols = await ctx.writable(tenantId);
      const key = docKey(tenantId, channelId);
      const [doc, head] = await Promise.all([cols.channels.findOne({ _id: key }), headOf(cols, tenantId, channelId)]);
      if (!doc) return { result: false, events: [] };
      const events = emit ? emit(toChannel(doc, head)) : [];
      const scope = { tenantId, channelId };
      await cols.messages.deleteMany(scope);
      await Promise.all([
        cols.reactions.deleteMany(scope),
        cols.flags.deleteMany(scope),
        cols.sanctions.deleteMany(scope),
        cols.slowModeMarks.deleteMany(scope),
        cols.members.deleteMany(scope),
      ]);
      await cols.channels.deleteOne({ _id: key });
      return { result: true, events };
    }),
  );
}

export async function listPublicChannels(
  s: TenantScope,
  opts: { limit: number; after?: string },
): Promise<Page<Channel>> {
  const { tenantId } = s;
  const limit = limitOf(opts.limit);
  const cols = s.ctx.readable(tenantId);
  const docs = await cols.channels
    .find({ tenantId, type: 'public', id: { $gt: optStr(opts.after, 'after') ?? '' } })
    .sort({ id: 1 })
    .limit(limit + 1)
    .toArray();
  const page = pageOf(docs, limit, (d) => d.id);
  const heads = await Promise.all(page.items.map((d) => headOf(cols, tenantId, d.id)));
  return { items: page.items.map((d, i) => toChannel(d, heads[i] ?? null)), next: page.next };
}

/**
 * The user's channels by last activity, newest first; channels without messages last, by id.
 * Reads the user's memberships, then one page of their channels sorted by `activityAt`, then per
 * channel its newest message, last channel-level message and unread count. The cursor holds the
 * last item's sort key; a channel that gets a new message between two page reads moves up and
 * may be seen twice or skipped, as with any listing ordered by a changing key.
 */
export async function listMyChannels(
  s: TenantScope,
  userId: string,
  opts: { limit: number; after?: string },
): Promise<Page<MyChannel>> {
  const { tenantId } = s;
  const user = str(userId, 'userId');
  const limit = limitOf(opts.limit);
  const after = optStr(opts.after, 'after');
  const cols = s.ctx.readable(tenantId);
  const memberships = await cols.members.find({ tenantId, userId: user }).toArray();
  if (memberships.length === 0) return { items: [], next: null };
  const membershipOf = new Map(memberships.map((m) => [m.channelId, m]));

  const filter: Filter<ChannelDoc> = {
    tenantId,
    _id: { $in: memberships.map((m) => docKey(tenantId, m.channelId)) },
  };
  if (after !== undefined) {
    const cursor = decodeActivityCursor(after);
    if (cursor.activityAt === null) {
      filter.activityAt = null;
      filter.id = { $gt: cursor.id };
    } else {
      filter.$or = [
        { activityAt: { $lt: cursor.activityAt } },
        { activityAt: cursor.activityAt, id: { $gt: cursor.id } },
        { activityAt: null },
      ];
    }
  }
  const docs = await cols.channels
    .find(filter)
    .sort({ activityAt: -1, id: 1 })
    .limit(limit + 1)
    .toArray();
  const page = pageOf(docs, limit, (d) => encodeActivityCursor({ activityAt: d.activityAt, id: d.id }));
  const items = await Promise.all(
    page.items.map(async (doc): Promise<MyChannel | null> => {
      const m = membershipOf.get(doc.id);
      if (!m) return null;
      const membership = toMember(m);
      return myChannel(cols, tenantId, doc, membership);
    }),
  );
  return { items: items.filter((i): i is MyChannel => i !== null), next: page.next };
}

async function myChannel(
  cols: TenantCollections,
  tenantId: string,
  doc: ChannelDoc,
  membership: MyChannel['membership'],
): Promise<MyChannel> {
  const [newest, unreadCount] = await Promise.all([
    cols.messages.find({ tenantId, channelId: doc.id }).sort({ seq: -1 }).limit(1).next(),
    countUnread(cols, tenantId, doc.id, membership.userId, membership.lastReadSeq),
  ]);
  // The newest message is usually channel-level; only a thread reply costs one more read.
  const last = newest === null || newest.parentId === null ? newest : await lastTopLevelMessage(cols, tenantId, doc.id);
  return {
    channel: toChannel(doc, newest ? { seq: newest.seq, createdAt: newest.createdAt } : null),
    membership,
    unreadCount,
    lastMessage: last ? toMessage(last) : null,
  };
}
