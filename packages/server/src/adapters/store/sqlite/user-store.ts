/**
 * Users of a tenant on SQLite.
 */
import type { User } from '@natter/protocol';
import type { Emit, Page, UserInput } from '../../../ports/store.js';
import { now, type TenantScope } from './connection.js';
import { pageOf } from './paging.js';
import { toUser, type UserRow } from './rows.js';

const USER_COLUMNS = 'id, name, avatar_url, role, custom, created_at, updated_at';

export function upsertUsers(s: TenantScope, inputs: UserInput[], emit?: Emit<User[]>): Promise<User[]> {
  const { ctx, tenantId } = s;
  const at = now();
  return ctx.write(() => {
    const users = inputs.map((input) => {
      const row = ctx.one<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? AND id = ?`,
        tenantId,
        input.id,
      );
      // `undefined` means "not given, keep"; an explicit null clears the field.
      const user: User = row
        ? {
            ...toUser(row),
            ...defined({
              name: input.name,
              avatarUrl: input.avatarUrl,
              role: input.role,
              custom: input.custom,
            }),
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
      ctx.run(
        `INSERT INTO users (tenant_id, id, name, avatar_url, role, custom, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name,
           avatar_url = excluded.avatar_url, role = excluded.role, custom = excluded.custom,
           updated_at = excluded.updated_at`,
        tenantId,
        user.id,
        user.name,
        user.avatarUrl,
        user.role,
        JSON.stringify(user.custom),
        user.createdAt,
        user.updatedAt,
      );
      return user;
    });
    if (emit) ctx.appendEvents(tenantId, emit(users));
    return users;
  });
}

export function getUser(s: TenantScope, id: string): User | null {
  const row = s.ctx.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? AND id = ?`, s.tenantId, id);
  return row ? toUser(row) : null;
}

export function getUsers(s: TenantScope, ids: string[]): User[] {
  // json_each binds any number of ids as one parameter, so one prepared statement serves all.
  const rows = s.ctx.all<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users
     WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    s.tenantId,
    JSON.stringify(ids),
  );
  return rows.map(toUser);
}

export function listUsers(s: TenantScope, opts: { limit: number; after?: string }): Page<User> {
  const rows = s.ctx.all<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
    s.tenantId,
    opts.after ?? '',
    opts.limit + 1,
  );
  return pageOf(rows.map(toUser), opts.limit, (u) => u.id);
}

export function deleteUser(s: TenantScope, id: string, emit?: Emit<User>): Promise<boolean> {
  const { ctx, tenantId } = s;
  return ctx.write(() => {
    const user = getUser(s, id);
    if (!user) return false;
    ctx.run(
      `UPDATE channels SET member_count = member_count - 1
       WHERE tenant_id = ? AND id IN (SELECT channel_id FROM members WHERE tenant_id = ? AND user_id = ?)`,
      tenantId,
      tenantId,
      id,
    );
    ctx.run('DELETE FROM members WHERE tenant_id = ? AND user_id = ?', tenantId, id);
    ctx.run('DELETE FROM users WHERE tenant_id = ? AND id = ?', tenantId, id);
    if (emit) ctx.appendEvents(tenantId, emit(user));
    return true;
  });
}

/** The entries of `o` whose value is not undefined. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
