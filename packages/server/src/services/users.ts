/**
 * Users of a tenant: the tenant backend upserts them and mints their tokens.
 */
import type { User } from '@natter/protocol';
import { event } from '../domain/events.js';
import { checkCustom } from '../domain/limits.js';
import { invalid, NatterError } from '../errors.js';
import type { Page, TenantRecord, UserInput } from '../ports/store.js';
import { audit } from './audit.js';
import { type IssuedToken, mintUserToken } from './auth.js';
import type { TenantCtx } from './context.js';

function backendOnly(ctx: TenantCtx, what: string): void {
  if (ctx.actor.kind !== 'server') {
    throw new NatterError('NATTER_AUTH_FORBIDDEN', `Only the tenant backend (API key) may ${what}.`);
  }
}

export async function upsertUsers(ctx: TenantCtx, users: UserInput[]): Promise<User[]> {
  backendOnly(ctx, 'create or update users');
  const seen = new Set<string>();
  users.forEach((u, i) => {
    if (seen.has(u.id)) throw invalid(`users/${i}/id`, `repeats ${u.id}`);
    seen.add(u.id);
    if (u.custom !== undefined) checkCustom(`users/${i}/custom`, u.custom, ctx.deps.limits);
  });
  // Roles grant or take away moderation powers: audit every change, and new staff.
  const withRole = users.filter((u) => u.role !== undefined).map((u) => u.id);
  const roles = new Map(withRole.length > 0 ? (await ctx.db.getUsers(withRole)).map((u) => [u.id, u.role]) : []);
  const stored = await ctx.db.upsertUsers(users, (us) => [event('user.updated', null, { users: us })]);
  ctx.deps.relay.kick();
  for (const user of stored.filter((u) => withRole.includes(u.id))) {
    const before = roles.get(user.id) ?? null;
    const changed = before === null ? user.role === 'admin' || user.role === 'moderator' : before !== user.role;
    if (changed) {
      await audit(ctx, {
        action: 'user.role',
        targetType: 'user',
        targetId: user.id,
        before: before === null ? null : { role: before },
        after: { role: user.role },
      });
    }
  }
  return stored;
}

export async function getUser(ctx: TenantCtx, userId: string): Promise<User> {
  const user = await ctx.db.getUser(userId);
  if (!user) throw new NatterError('NATTER_USER_NOT_FOUND', undefined, { field: 'userId' });
  return user;
}

export async function listUsers(ctx: TenantCtx, opts: { limit: number; after?: string }): Promise<Page<User>> {
  backendOnly(ctx, 'list users');
  return ctx.db.listUsers(opts);
}

export async function deleteUser(ctx: TenantCtx, userId: string): Promise<void> {
  backendOnly(ctx, 'delete users');
  const before = await ctx.db.getUser(userId);
  const deleted = await ctx.db.deleteUser(userId, (user) => [event('user.deleted', null, { user })]);
  if (!deleted) throw new NatterError('NATTER_USER_NOT_FOUND', undefined, { field: 'userId' });
  ctx.deps.relay.kick();
  await audit(ctx, { action: 'user.delete', targetType: 'user', targetId: userId, before, after: null });
}

export async function issueToken(
  ctx: TenantCtx,
  tenant: TenantRecord,
  userId: string,
  ttlSeconds?: number,
): Promise<IssuedToken> {
  backendOnly(ctx, 'mint user tokens');
  await getUser(ctx, userId);
  return mintUserToken(tenant, userId, ttlSeconds ?? ctx.deps.tokenTtl, ctx.deps.now().getTime());
}
