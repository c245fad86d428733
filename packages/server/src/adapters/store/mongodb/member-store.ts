/**
 * Channel members of a tenant on MongoDB. The channel's `memberCount` moves with every insert and
 * delete here, by `$inc`, under the channel lock.
 */
import type { Member, MemberRole } from '@natter/protocol';
import type { Emit, Page } from '../../../ports/store.js';
import { lockKey, type TenantScope, write } from './connection.js';
import { docKey, memberDoc, toMember } from './documents.js';
import { duplicateIndexes } from './errors.js';
import { limitOf, num, optStr, str, strs } from './inputs.js';
import { headOf } from './message-store.js';
import { pageOf } from './paging.js';

/** Adds the members that are not in the channel yet (existing ones keep role and joinedAt). */
export function addMembers(
  s: TenantScope,
  channelId: string,
  members: { userId: string; role: MemberRole }[],
  joinedAt: string,
  emit?: Emit<Member[]>,
): Promise<Member[]> {
  const { ctx, tenantId } = s;
  const channel = str(channelId, 'channelId');
  const at = str(joinedAt, 'joinedAt');
  const wanted = new Map<string, MemberRole>();
  members.forEach((m, i) => {
    const userId = str(m.userId, `members[${i}].userId`);
    if (!wanted.has(userId)) wanted.set(userId, str(m.role, `members[${i}].role`) as MemberRole);
  });
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.channel(tenantId, channel), async () => {
      const cols = await ctx.writable(tenantId);
      const channelKey = docKey(tenantId, channel);
      const [exists, existing] = await Promise.all([
        cols.channels.findOne({ _id: channelKey }, { projection: { _id: 1 } }),
        cols.members
          .find(
            { _id: { $in: [...wanted.keys()].map((u) => docKey(tenantId, channel, u)) } },
            { projection: { userId: 1 } },
          )
          .toArray(),
      ]);
      if (!exists) throw new Error(`channel ${channel} not found`);
      const present = new Set(existing.map((m) => m.userId));
      let added: Member[] = [...wanted]
        .filter(([userId]) => !present.has(userId))
        .map(([userId, role]) => ({
          channelId: channel,
          userId,
          role,
          lastReadSeq: 0,
          lastReadAt: null,
          joinedAt: at,
        }));
      if (added.length === 0) return { result: added, events: [] };
      let events = emit ? emit(added) : [];
      try {
        await cols.members.insertMany(
          added.map((m) => memberDoc(tenantId, m)),
          { ordered: false },
        );
      } catch (err) {
        // Another node added some of them meanwhile: those were not added by this call.
        const taken = duplicateIndexes(err);
        if (taken === null) throw err;
        const all = added;
        added = all.filter((_, i) => !taken.has(i));
        if (added.length > 0 && emit) {
          try {
            events = emit(added);
          } catch (emitErr) {
            await cols.members.deleteMany({ _id: { $in: added.map((m) => docKey(tenantId, channel, m.userId)) } });
            throw emitErr;
          }
        } else events = [];
      }
      if (added.length > 0) await cols.channels.updateOne({ _id: channelKey }, { $inc: { memberCount: added.length } });
      return { result: added, events };
    }),
  );
}

/** Removes members; returns the user ids that were removed (each by exactly one caller). */
export function removeMembers(
  s: TenantScope,
  channelId: string,
  userIds: string[],
  emit?: Emit<string[]>,
): Promise<string[]> {
  const { ctx, tenantId } = s;
  const channel = str(channelId, 'channelId');
  const ids = [...new Set(strs(userIds, 'userIds'))];
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.channel(tenantId, channel), async () => {
      const cols = await ctx.writable(tenantId);
      const existing = await cols.members
        .find({ _id: { $in: ids.map((u) => docKey(tenantId, channel, u)) } }, { projection: { userId: 1 } })
        .toArray();
      const present = new Set(existing.map((m) => m.userId));
      let removed = ids.filter((u) => present.has(u));
      if (removed.length === 0) return { result: removed, events: [] };
      let events = emit ? emit(removed) : [];
      // One deleteOne per member: its deletedCount tells whether this call removed it.
      const counts = await Promise.all(
        removed.map((u) => cols.members.deleteOne({ _id: docKey(tenantId, channel, u) }).then((r) => r.deletedCount)),
      );
      const actually = removed.filter((_, i) => (counts[i] ?? 0) > 0);
      if (actually.length !== removed.length) {
        removed = actually;
        // The deletes are done: events describe what happened even if emit only works now.
        events = emit && removed.length > 0 ? emit(removed) : [];
      }
      if (removed.length > 0) {
        await cols.channels.updateOne({ _id: docKey(tenantId, channel) }, { $inc: { memberCount: -removed.length } });
      }
      return { result: removed, events };
    }),
  );
}

export async function getMember(s: TenantScope, channelId: string, userId: string): Promise<Member | null> {
  const cols = s.ctx.readable(s.tenantId);
  const doc = await cols.members.findOne({
    _id: docKey(s.tenantId, str(channelId, 'channelId'), str(userId, 'userId')),
  });
  return doc ? toMember(doc) : null;
}

export async function listMembers(
  s: TenantScope,
  channelId: string,
  opts: { limit: number; after?: string },
): Promise<Page<Member>> {
  const limit = limitOf(opts.limit);
  const cols = s.ctx.readable(s.tenantId);
  const docs = await cols.members
    .find({
      tenantId: s.tenantId,
      channelId: str(channelId, 'channelId'),
      userId: { $gt: optStr(opts.after, 'after') ?? '' },
    })
    .sort({ userId: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toMember), limit, (m) => m.userId);
}

/**
 * Raises the read mark to `seq`, capped at the channel's last seq (a mark beyond it would hide
 * messages not sent yet). A lower or equal seq changes nothing and emits nothing. The update is
 * conditional (`lastReadSeq < target`), so on MongoDB a mark is never lowered even by racing nodes.
 */
export function markRead(
  s: TenantScope,
  channelId: string,
  userId: string,
  seq: number,
  at: string,
  emit?: Emit<Member>,
): Promise<Member | null> {
  const { ctx, tenantId } = s;
  const channel = str(channelId, 'channelId');
  const user = str(userId, 'userId');
  const wanted = num(seq, 'seq');
  const readAt = str(at, 'at');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.member(tenantId, channel, user), async () => {
      const cols = await ctx.writable(tenantId);
      const key = docKey(tenantId, channel, user);
      const [doc, head] = await Promise.all([cols.members.findOne({ _id: key }), headOf(cols, tenantId, channel)]);
      if (!doc) return { result: null, events: [] };
      const member = toMember(doc);
      const target = Math.min(wanted, head?.seq ?? 0);
      if (target <= member.lastReadSeq) return { result: member, events: [] };
      const updated: Member = { ...member, lastReadSeq: target, lastReadAt: readAt };
      const events = emit ? emit(updated) : [];
      const { matchedCount } = await cols.members.updateOne(
        { _id: key, lastReadSeq: { $lt: target } },
        { $set: { lastReadSeq: target, lastReadAt: readAt } },
      );
      if (matchedCount > 0) return { result: updated, events };
      // Raised further (or removed) by another node in between: report what is stored.
      const now = await cols.members.findOne({ _id: key });
      return { result: now ? toMember(now) : null, events: [] };
    }),
  );
}
