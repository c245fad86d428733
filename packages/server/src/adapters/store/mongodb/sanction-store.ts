/**
 * Bans and mutes of a tenant on MongoDB: one document per (kind, scope, user), its `_id`; a null
 * `channelId` is tenant-wide. Expired documents stay until replaced or removed: every read
 * filters on `expiresAt` (exclusive).
 */
import type { Filter } from 'mongodb';
import type { Emit, Page, Sanction, SanctionChange, SanctionKind, SanctionQuery } from '../../../ports/store.js';
import { type TenantScope, write } from './connection.js';
import { docKey } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { limitOf, optStr, str, strOrNull } from './inputs.js';
import { type SanctionDoc, sanctionDoc, sanctionKey, toSanction } from './moderation-documents.js';
import { pageOf } from './paging.js';

const lock = (key: string) => `s${key}`;

/** In force at `at`: no expiry, or expiring after it. */
function inForce(at: string): Filter<SanctionDoc> {
  return { $or: [{ expiresAt: null }, { expiresAt: { $gt: at } }] };
}

function checked(s: Sanction): Sanction {
  return {
    kind: str(s.kind, 'kind') as SanctionKind,
    userId: str(s.userId, 'userId'),
    channelId: strOrNull(s.channelId, 'channelId'),
    reason: strOrNull(s.reason, 'reason'),
    createdBy: strOrNull(s.createdBy, 'createdBy'),
    createdAt: str(s.createdAt, 'createdAt'),
    expiresAt: strOrNull(s.expiresAt, 'expiresAt'),
  };
}

/** Stores the sanction in place of the one of the same kind, user and scope; returns both. */
export function putSanction(s: TenantScope, input: Sanction, emit?: Emit<SanctionChange>): Promise<SanctionChange> {
  const { ctx, tenantId } = s;
  const sanction = checked(input);
  const doc = sanctionDoc(tenantId, sanction);
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lock(doc._id), async () => {
      const cols = await ctx.writable(tenantId);
      const [stored, channel] = await Promise.all([
        cols.sanctions.findOne({ _id: doc._id }),
        sanction.channelId === null
          ? null
          : cols.channels.findOne({ _id: docKey(tenantId, sanction.channelId) }, { projection: { _id: 1 } }),
      ]);
      // A channel-scoped sanction needs its channel (and goes with it, see deleteChannel).
      if (sanction.channelId !== null && !channel) throw new Error(`channel ${sanction.channelId} not found`);
      const change: SanctionChange = { sanction, previous: stored ? toSanction(stored) : null };
      const events = emit ? emit(change) : [];
      const save = () => cols.sanctions.replaceOne({ _id: doc._id }, doc, { upsert: true });
      // Two nodes inserting the same new key: the loser's upsert fails once; it then replaces.
      await save().catch((err: unknown) => (isDuplicateKey(err) ? save() : Promise.reject(err)));
      return { result: change, events };
    }),
  );
}

/** Lifts a ban or mute of one scope; returns the record removed (expired or not), or null. */
export function removeSanction(
  s: TenantScope,
  kind: SanctionKind,
  userId: string,
  channelId: string | null,
  emit?: Emit<Sanction>,
): Promise<Sanction | null> {
  const { ctx, tenantId } = s;
  const key = sanctionKey(
    tenantId,
    str(kind, 'kind') as SanctionKind,
    strOrNull(channelId, 'channelId'),
    str(userId, 'userId'),
  );
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lock(key), async () => {
      const cols = ctx.readable(tenantId);
      const stored = await cols.sanctions.findOne({ _id: key });
      if (!stored) return { result: null, events: [] };
      const current = toSanction(stored);
      const events = emit ? emit(current) : [];
      const { deletedCount } = await cols.sanctions.deleteOne({ _id: key });
      // Removed by another node in between: not by this call.
      return deletedCount > 0 ? { result: current, events } : { result: null, events: [] };
    }),
  );
}

export async function activeSanctions(
  s: TenantScope,
  userId: string,
  channelId: string | null,
  at: string,
): Promise<Sanction[]> {
  const scope = strOrNull(channelId, 'channelId');
  const docs = await s.ctx
    .readable(s.tenantId)
    .sanctions.find({
      tenantId: s.tenantId,
      userId: str(userId, 'userId'),
      channelId: scope === null ? null : { $in: [null, scope] },
      ...inForce(str(at, 'at')),
    })
    .sort({ kind: 1, channelId: 1 })
    .toArray();
  return docs.map(toSanction);
}

export async function listSanctions(s: TenantScope, q: SanctionQuery): Promise<Page<Sanction>> {
  const limit = limitOf(q.limit);
  const docs = await s.ctx
    .readable(s.tenantId)
    .sanctions.find({
      tenantId: s.tenantId,
      kind: str(q.kind, 'kind') as SanctionKind,
      channelId: strOrNull(q.channelId, 'channelId'),
      userId: { $gt: optStr(q.after, 'after') ?? '' },
      ...inForce(str(q.at, 'at')),
    })
    .sort({ userId: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toSanction), limit, (x) => x.userId);
}
