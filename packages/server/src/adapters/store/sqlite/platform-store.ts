/**
 * Platform records on SQLite: tenants and API keys.
 */
import type { ApiKeyRecord, Page, PlatformStore, TenantRecord } from '../../../ports/store.js';
import { StoreConflictError } from '../../../ports/store.js';
import { now, type SqliteContext } from './connection.js';
import { pageOf } from './paging.js';
import { type ApiKeyRow, type TenantRow, toApiKey, toTenant } from './rows.js';

/**
 * Tables holding a tenant's rows, children first. deleteTenant empties them explicitly rather than
 * relying on foreign-key cascades, which do not reach users, outbox rows or API keys.
 */
const TENANT_TABLES = [
  'flags',
  'sanctions',
  'blocks',
  'audit_log',
  'slow_mode_marks',
  'reactions',
  'messages',
  'members',
  'channels',
  'users',
  'outbox',
  'api_keys',
];

export class SqlitePlatformStore implements PlatformStore {
  constructor(private readonly ctx: SqliteContext) {}

  async createTenant(input: Omit<TenantRecord, 'createdAt' | 'updatedAt'>): Promise<TenantRecord> {
    const at = now();
    return this.ctx.write(() => {
      if (this.ctx.one('SELECT 1 FROM tenants WHERE id = ?', input.id)) {
        throw new StoreConflictError('tenant', input.id);
      }
      this.ctx.run(
        `INSERT INTO tenants (id, name, settings, signing_secret, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        input.id,
        input.name,
        JSON.stringify(input.settings),
        input.signingSecret,
        at,
        at,
      );
      return { ...input, createdAt: at, updatedAt: at };
    });
  }

  /** Read on every request and frame, so remembered until anything changes (see `SqliteContext.memo`). */
  async getTenant(id: string): Promise<TenantRecord | null> {
    return this.ctx.memo(`tenant\u0000${id}`, () => {
      const row = this.ctx.one<TenantRow>('SELECT * FROM tenants WHERE id = ?', id);
      return row ? toTenant(row) : null;
    });
  }

  async listTenants(opts: { limit: number; after?: string }): Promise<Page<TenantRecord>> {
    const rows = this.ctx.all<TenantRow>(
      'SELECT * FROM tenants WHERE id > ? ORDER BY id LIMIT ?',
      opts.after ?? '',
      opts.limit + 1,
    );
    return pageOf(rows.map(toTenant), opts.limit, (t) => t.id);
  }

  async updateTenant(
    id: string,
    patch: Partial<Pick<TenantRecord, 'name' | 'settings'>>,
  ): Promise<TenantRecord | null> {
    return this.ctx.write(() => {
      const row = this.ctx.one<TenantRow>('SELECT * FROM tenants WHERE id = ?', id);
      if (!row) return null;
      const current = toTenant(row);
      const next: TenantRecord = {
        ...current,
        name: patch.name ?? current.name,
        settings: patch.settings ?? current.settings,
        updatedAt: now(),
      };
      this.ctx.run(
        'UPDATE tenants SET name = ?, settings = ?, updated_at = ? WHERE id = ?',
        next.name,
        JSON.stringify(next.settings),
        next.updatedAt,
        id,
      );
      return next;
    });
  }

  async deleteTenant(id: string): Promise<boolean> {
    return this.ctx.write(() => {
      for (const table of TENANT_TABLES) {
        this.ctx.run(`DELETE FROM ${table} WHERE tenant_id = ?`, id);
      }
      return this.ctx.run('DELETE FROM tenants WHERE id = ?', id) > 0;
    });
  }

  async createApiKey(input: Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>): Promise<ApiKeyRecord> {
    const at = now();
    return this.ctx.write(() => {
      if (this.ctx.one('SELECT 1 FROM api_keys WHERE id = ?', input.id)) {
        throw new StoreConflictError('apiKey', input.id);
      }
      this.ctx.run(
        'INSERT INTO api_keys (id, tenant_id, secret_hash, created_at) VALUES (?, ?, ?, ?)',
        input.id,
        input.tenantId,
        input.secretHash,
        at,
      );
      return { ...input, createdAt: at, revokedAt: null };
    });
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const row = this.ctx.one<ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?', id);
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(tenantId: string | null): Promise<ApiKeyRecord[]> {
    // `IS ?` matches NULL too, so one statement serves platform keys and tenant keys. rowid breaks
    // ties between keys created in the same millisecond.
    const rows = this.ctx.all<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE tenant_id IS ? ORDER BY created_at DESC, rowid DESC',
      tenantId,
    );
    return rows.map(toApiKey);
  }

  async revokeApiKey(tenantId: string | null, id: string): Promise<boolean> {
    // A second revoke keeps the first revocation time.
    const changed = await this.ctx.write(() =>
      this.ctx.run(
        'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id IS ?',
        now(),
        id,
        tenantId,
      ),
    );
    return changed > 0;
  }
}
