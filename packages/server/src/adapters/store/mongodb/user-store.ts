/**
 * Users of a tenant on MongoDB.
 */
import type { User } from '@natter/protocol';
import type { Emit, Page, UserInput } from '../../../ports/store.js';
import { lockKey, now, type TenantScope, write } from './connection.js';
import { docKey, toUser, userDoc } from './documents.js';
import { duplicateIndexes, isDuplicateKey } from './errors.js';
import { limitOf, optStr, str, strs } from './inputs.js';
import { pageOf } from './paging.js';

/** Creates or updates users; fields left out keep their stored value, an explicit null clears. */
export function upsertUsers(s: TenantScope, inputs: UserInput[], emit?: Emit<User[]>): Promise<User[]> {
  const { ctx, tenantId } = s;
  const ids = inputs.map((u, i) => str(u.id, `users[${i}].id`));
  return write(s, emit !== undefined, () =>
    ctx.locks.runAll(
      ids.map((id) => lockKey.user(tenantId, id)),
      async () => {
        const cols = await ctx.writable(tenantId);
        const stored = await cols.users.find({ _id: { $in: ids.map((id) => docKey(tenantId, id)) } }).toArray();
        const current = new Map(stored.map((d) => [d.id, toUser(d)]));
        const at = now();
        const users = inputs.map((input): User => {
          const before = current.get(input.id);
          const user: User = before
            ? {
                ...before,
                ...defined({ name: input.name, avatarUrl: input.avatarUrl, role: input.role, custom: input.custom }),
                updatedAt: at,
              }
            : {
                id: input.id,
                name: input.name ?? null,
                avatarUrl: input.avatarUrl ?? null,
                role: input.role ?? 'member',
                custom: input.custom ?? {},
                createdAt: at,
                updatedAt: at,
              };
          // A repeated id in one call builds on the previous entry, as sequential upserts would.
          current.set(user.id, user);
          return user;
        });
        const events = emit ? emit(users) : [];
        // The last entry per id is the state to store.
        const docs = new Map(users.map((u) => [u.id, userDoc(tenantId, u)]));
        const save = () =>
          cols.users.bulkWrite(
            [...docs.values()].map((doc) => ({
              replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
            })),
            { ordered: false },
          );
        // Another node inserting the same new user at the same moment makes one upsert fail with
        // a duplicate key; the retry then replaces the document that won.
        await save().catch((err: unknown) =>
          isDuplicateKey(err) || duplicateIndexes(err) !== null ? save() : Promise.reject(err),
        );
        return { result: users, events };
      },
    ),
  );
}

export async function getUser(s: TenantScope, id: string): Promise<User | null> {
  const cols = s.ctx.readable(s.tenantId);
  const doc = await cols.users.findOne({ _id: docKey(s.tenantId, str(id, 'id')) });
  return doc ? toUser(doc) : null;
}

export async function getUsers(s: TenantScope, ids: string[]): Promise<User[]> {
  const keys = strs(ids, 'ids').map((id) => docKey(s.tenantId, id));
  if (keys.length === 0) return [];
  const cols = s.ctx.readable(s.tenantId);
  const docs = await cols.users
    .find({ _id: { $in: keys } })
    .sort({ tenantId: 1, id: 1 })
    .toArray();
  return docs.map(toUser);
}

export async function listUsers(s: TenantScope, opts: { limit: number; after?: string }): Promise<Page<User>> {
  const limit = limitOf(opts.limit);
  const cols = s.ctx.readable(s.tenantId);
  const docs = await cols.users
    .find({ tenantId: s.tenantId, id: { $gt: optStr(opts.after, 'after') ?? '' } })
    .sort({ tenantId: 1, id: 1 })
    .limit(limit + 1)
    .toArray();
  return pageOf(docs.map(toUser), limit, (u) => u.id);
}

/**
 * Deletes the user's memberships (and their channels' member counts), then the user, so a
 * deletion cut short can be run again.
 */
export function deleteUser(s: TenantScope, id: string, emit?: Emit<User>): Promise<boolean> {
  const { ctx, tenantId } = s;
  const userId = str(id, 'id');
  return write(s, emit !== undefined, () =>
    ctx.locks.run(lockKey.user(tenantId, userId), async () => {
      const cols = await ctx.writable(tenantId);
      const doc = await cols.users.findOne({ _id: docKey(tenantId, userId) });
      if (!doc) return { result: false, events: [] };
      const events = emit ? emit(toUser(doc)) : [];
      const memberships = await cols.members
        .find({ tenantId, userId }, { projection: { _id: 1, channelId: 1 } })
        .toArray();
      await Promise.all(
        memberships.map((m) =>
          ctx.locks.run(lockKey.channel(tenantId, m.channelId), async () => {
            const { deletedCount } = await cols.members.deleteOne({ _id: m._id });
            if (deletedCount > 0) {
              await cols.channels.updateOne({ _id: docKey(tenantId, m.channelId) }, { $inc: { memberCount: -1 } });
            }
          }),
        ),
      );
      await cols.users.deleteOne({ _id: doc._id });
      return { result: true, events };
    }),
  );
}

/** The entries of `o` whose value is not undefined. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
