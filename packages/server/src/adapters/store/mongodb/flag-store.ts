/**
 * Message flags (the moderation queue) of a tenant on MongoDB. The unique `openKey` index keeps
 * one open flag per (message, reporter); resolving a flag frees its key, so the message can be
 * flagged again. Flags go with their channel's messages (deleteChannel); a soft delete keeps them.
 */
import type { Filter } from 'mongodb';
import type {
  Emit,
  Flag,
  FlagInput,
  FlagQuery,
  FlagResolution,
  FlagResolutionInput,
  FlagStatus,
  Page,
} from '../../../ports/store.js';
import { type TenantScope, write } from './connection.js';
import { docKey } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { limitOf, optStr, str, strOrNull, strs } from './inputs.js';
import { type FlagDoc, flagDoc, openKeyOf, toFlag } from './moderation-documents.js';
import { pageOf } from './paging.js';

const lock = (tenantId: string, id: string) => `f${docKey(tenantId, id)}`;

export async function getFlag(s: TenantScope, id: string): Promise<Flag | null> {
  const doc = await s.ctx.readable(s.tenantId).flags.findOne({ _id: docKey(s.tenantId, str(id, 'id')) });
  return doc ? toFlag(doc) : null;
}

/** Flags a message; a repeat by the same reporter while a flag is open returns that flag. */
export function addFlag(
  s: TenantScope,
  input: FlagInput,
  emit?: Emit<Flag>,
): Promise<{ flag: Flag; created: boolean }> {
  const { ctx, tenantId } = s;
  const flag: Flag = {
    id: str(input.id, 'id'),
    messageId: str(input.messageId, 'messageId'),
    channelId: str(input.channelId, 'channelId'),
    reporterId: strOrNull(input.reporterId, 'reporterId'),
    reason: str(input.reason, 'reason'),
    status: 'open',
    createdAt: str(input.createdAt, 'createdAt'),
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
  };
  const openKey = openKeyOf(flag.messageId, flag.reporterId);
  return write<{ flag: Flag; created: boolean }>(s, emit !== undefined, async () => {
    const cols = await ctx.writable(tenantId);
    const [open, message] = await Promise.all([
      cols.flags.findOne({ tenantId, openKey }),
      cols.messages.findOne({ _id: docKey(tenantId, flag.messageId) }, { projection: { _id: 1 } }),
    ]);
    if (open) return { result: { flag: toFlag(open), created: false }, events: [] };
    if (!message) throw new Error(`message ${flag.messageId} not found`);
    const events = emit ? emit(flag) : [];
    try {
      await cols.flags.insertOne(flagDoc(tenantId, flag));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Either the reporter's open flag was stored meanwhile (a repeat), or the id is taken.
      const first = await cols.flags.findOne({ tenantId, openKey });
      if (!first) throw new Error(`flag ${flag.id} exists`);
      return { result: { flag: toFlag(first), created: false }, events: [] };
    }
    return { result: { flag, created: true }, events };
  });
}

/** Flags by id ascending (oldest first: a queue); the cursor is the last id. */
export async function listFlags(s: TenantScope, q: FlagQuery): Promise<Page<Flag>> {
  const limit = limitOf(q.limit);
  const filter: Filter<FlagDoc> = { tenantId: s.tenantId, id: { $gt: optStr(q.after, 'after') ?? '' } };
  if (q.status !== undefined) filter.status = str(q.status, 'status') as FlagStatus;
  if (q.channelId !== undefined) filter.channelId = str(q.channelId, 'channelId');
  if (q.messageId !== undefined) filter.messageId = str(q.messageId, 'messageId');
  const docs = await s.ctx
    .readable(s.tenantId)
    .flags.find(filter)
    .sort({ id: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toFlag), limit, (f) => f.id);
}

/** Resolves the flags of `ids` that are still open, in the order given; returns those it resolved. */
export function resolveFlags(
  s: TenantScope,
  ids: string[],
  input: FlagResolutionInput,
  emit?: Emit<Flag[]>,
): Promise<Flag[]> {
  const { ctx, tenantId } = s;
  const unique = [...new Set(strs(ids, 'ids'))];
  const how = {
    resolution: str(input.resolution, 'resolution') as FlagResolution,
    resolvedBy: strOrNull(input.resolvedBy, 'resolvedBy'),
    resolvedAt: str(input.resolvedAt, 'resolvedAt'),
  };
  return write(s, emit !== undefined, () =>
    ctx.locks.runAll(
      unique.map((id) => lock(tenantId, id)),
      async () => {
        const cols = ctx.readable(tenantId);
        const docs = await cols.flags
          .find({ _id: { $in: unique.map((id) => docKey(tenantId, id)) }, status: 'open' })
          .toArray();
        const byId = new Map(docs.map((d) => [d.id, d]));
        let resolved: Flag[] = unique
          .map((id) => byId.get(id))
          .filter((d): d is FlagDoc => d !== undefined)
          .map((d) => ({ ...toFlag(d), status: 'resolved', ...how }));
        if (resolved.length === 0) return { result: resolved, events: [] };
        let events = emit ? emit(resolved) : [];
        // Conditional on `open`, so a flag another node resolved meanwhile keeps its resolution.
        const matched = await Promise.all(
          resolved.map((f) =>
            cols.flags
              .updateOne(
                { _id: docKey(tenantId, f.id), status: 'open' },
                { $set: { status: 'resolved', openKey: `#${f.id}`, ...how } },
              )
              .then((r) => r.matchedCount > 0),
          ),
        );
        if (matched.includes(false)) {
          resolved = resolved.filter((_, i) => matched[i]);
          // The updates are done: the events describe what this call resolved.
          events = emit && resolved.length > 0 ? emit(resolved) : [];
        }
        return { result: resolved, events };
      },
    ),
  );
}
