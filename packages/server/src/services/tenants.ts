/**
 * Tenants and API keys: the platform admin's side, plus a tenant backend rotating its own keys.
 * Key secrets are returned once, at creation, and stored only as hashes.
 */
import { hashSecret, newSecret, randomId } from '../domain/ids.js';
import { NatterError } from '../errors.js';
import {
  type ApiKeyRecord,
  type Store,
  StoreConflictError,
  type TenantRecord,
  type TenantSettings,
} from '../ports/store.js';

/** A new key: the only moment its secret is visible. */
export interface IssuedKey {
  id: string;
  secret: string;
  createdAt: string;
}

/** A tenant as the API shows it: never its signing secret. */
export type PublicTenant = Omit<TenantRecord, 'signingSecret'>;

export function publicTenant({ signingSecret: _, ...tenant }: TenantRecord): PublicTenant {
  return tenant;
}

export type PublicKey = Omit<ApiKeyRecord, 'secretHash'>;

export function publicKey({ secretHash: _, ...key }: ApiKeyRecord): PublicKey {
  return key;
}

export async function issueKey(store: Store, tenantId: string | null): Promise<IssuedKey> {
  const secret = newSecret();
  const key = await store.platform.createApiKey({ id: randomId('ak'), tenantId, secretHash: hashSecret(secret) });
  return { id: key.id, secret, createdAt: key.createdAt };
}

export async function createTenant(
  store: Store,
  input: { id?: string; name: string; settings?: Partial<TenantSettings> },
): Promise<{ tenant: PublicTenant; apiKey: IssuedKey }> {
  const id = input.id ?? randomId('t', 8);
  try {
    const tenant = await store.platform.createTenant({
      id,
      name: input.name,
      settings: { allowedOrigins: [], ...input.settings },
      signingSecret: newSecret(),
    });
    return { tenant: publicTenant(tenant), apiKey: await issueKey(store, tenant.id) };
  } catch (err) {
    if (err instanceof StoreConflictError) {
      throw new NatterError('NATTER_REQUEST_INVALID', `Tenant ${id} exists.`, { field: 'id' });
    }
    throw err;
  }
}

export async function requireTenant(store: Store, id: string): Promise<TenantRecord> {
  const tenant = await store.platform.getTenant(id);
  if (!tenant) throw new NatterError('NATTER_TENANT_NOT_FOUND', undefined, { field: 'tenantId' });
  return tenant;
}

/**
 * Creates the first platform-admin key when none exists. Returns it (to print once), or null on
 * later starts.
 */
export async function bootstrapPlatformKey(store: Store): Promise<IssuedKey | null> {
  const keys = await store.platform.listApiKeys(null);
  if (keys.some((k) => k.revokedAt === null)) return null;
  return issueKey(store, null);
}
