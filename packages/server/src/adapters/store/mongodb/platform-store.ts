/**
 * Platform records on MongoDB: tenants and API keys, in the main database.
 */
import type { ApiKeyRecord, Page, PlatformStore, TenantRecord } from '../../../ports/store.js';
import { StoreConflictError } from '../../../ports/store.js';
import { type MongoContext, now } from './connection.js';
import { type TenantDoc, toApiKey, toTenant } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { TENANT_COLLECTIONS } from './indexes.js';
import { limitOf, optStr, str, strOrNull } from './inputs.js';
import { pageOf } from './paging.js';

export class MongoPlatformStore implements PlatformStore {
  constructor(private readonly ctx: MongoContext) {}

  async createTenant(input: Omit<TenantRecord, 'createdAt' | 'updatedAt'>): Promise<TenantRecord> {
    const id = str(input.id, 'id');
    const at = now();
    const doc: TenantDoc = {
      _id: id,
      name: str(input.name, 'name'),
      settings: JSON.stringify(input.settings),
      signingSecret: str(input.signingSecret, 'signingSecret'),
      createdAt: at,
      updatedAt: at,
    };
    try {
      await this.ctx.tenants.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new StoreConflictError('tenant', id);
      throw err;
    }
    // Per-tenant mode: the tenant database gets its indexes now, before any node writes to it.
    await this.ctx.writable(id);
    return toTenant(doc);
  }

  async getTenant(id: string): Promise<TenantRecord | null> {
    const doc = await this.ctx.tenants.findOne({ _id: str(id, 'id') });
    return doc ? toTenant(doc) : null;
  }

  async listTenants(opts: { limit: number; after?: string }): Promise<Page<TenantRecord>> {
    const limit = limitOf(opts.limit);
    const docs = await this.ctx.tenants
      .find({ _id: { $gt: optStr(opts.after, 'after') ?? '' } })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    return pageOf(docs.map(toTenant), limit, (t) => t.id);
  }

  async updateTenant(
    id: string,
    patch: Partial<Pick<TenantRecord, 'name' | 'settings'>>,
  ): Promise<TenantRecord | null> {
    const set: Partial<TenantDoc> = { updatedAt: now() };
    if (patch.name !== undefined) set.name = str(patch.name, 'name');
    if (patch.settings !== undefined) set.settings = JSON.stringify(patch.settings);
    const doc = await this.ctx.tenants.findOneAndUpdate(
      { _id: str(id, 'id') },
      { $set: set },
      { returnDocument: 'after' },
    );
    return doc ? toTenant(doc) : null;
  }

  /**
   * Deletes the tenant's data first and its record last, so a deletion cut short can be run
   * again. Per-tenant mode drops the tenant database; shared mode deletes by `tenantId` in every
   * collection. Outbox events and API keys live in the main database in both modes.
   */
  async deleteTenant(id: string): Promise<boolean> {
    const tenantId = str(id, 'id');
    const { ctx } = this;
    if (ctx.options.databasePerTenant) {
      await ctx.client.db(ctx.tenantDbName(tenantId)).dropDatabase();
      ctx.forgetTenant(tenantId);
    } else {
      const cols = ctx.readable(tenantId);
      await Promise.all(TENANT_COLLECTIONS.map((name) => cols[name].deleteMany({ tenantId })));
    }
    await Promise.all([ctx.outbox.deleteMany({ tenantId }), ctx.apiKeys.deleteMany({ tenantId })]);
    const { deletedCount } = await ctx.tenants.deleteOne({ _id: tenantId });
    return deletedCount > 0;
  }

  async createApiKey(input: Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>): Promise<ApiKeyRecord> {
    const id = str(input.id, 'id');
    const doc = {
      _id: id,
      tenantId: strOrNull(input.tenantId, 'tenantId'),
      secretHash: str(input.secretHash, 'secretHash'),
      createdAt: now(),
      revokedAt: null,
    };
    try {
      await this.ctx.apiKeys.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new StoreConflictError('apiKey', id);
      throw err;
    }
    return toApiKey(doc);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const doc = await this.ctx.apiKeys.findOne({ _id: str(id, 'id') });
    return doc ? toApiKey(doc) : null;
  }

  async listApiKeys(tenantId: string | null): Promise<ApiKeyRecord[]> {
    // `{ tenantId: null }` matches the platform keys. The id breaks ties within a millisecond.
    const docs = await this.ctx.apiKeys
      .find({ tenantId: strOrNull(tenantId, 'tenantId') })
      .sort({ createdAt: -1, _id: -1 })
      .toArray();
    return docs.map(toApiKey);
  }

  async revokeApiKey(tenantId: string | null, id: string): Promise<boolean> {
    const filter = { _id: str(id, 'id'), tenantId: strOrNull(tenantId, 'tenantId') };
    // A second revoke keeps the first revocation time, and still reports the key as the tenant's.
    const { matchedCount } = await this.ctx.apiKeys.updateOne(
      { ...filter, revokedAt: null },
      { $set: { revokedAt: now() } },
    );
    return matchedCount > 0 || (await this.ctx.apiKeys.countDocuments(filter, { limit: 1 })) > 0;
  }
}
