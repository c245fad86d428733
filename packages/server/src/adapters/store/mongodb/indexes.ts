/**
 * Collections and indexes, created (idempotently) when the store starts and, in
 * database-per-tenant mode, when a tenant's database is first used by this process.
 *
 * Every tenant index leads with `tenantId`, so no tenant query can use an index without naming
 * the tenant. Uniqueness rests on indexes MongoDB and FerretDB v1 both enforce atomically: the
 * `_id` index and plain unique compound indexes (no partial indexes: FerretDB v1 lacks them, so
 * optional unique keys are made total, see `uniqueKey` and `clientKey` in documents.ts).
 */
import type { Db, IndexDescription } from 'mongodb';

/** Collections holding one tenant's data (in the tenant's own database in per-tenant mode). */
export const TENANT_COLLECTIONS = [
  'users',
  'channels',
  'members',
  'messages',
  'reactions',
  'sanctions',
  'blocks',
  'flags',
  'audit',
  'slowModeMarks',
] as const;
export type TenantCollectionName = (typeof TENANT_COLLECTIONS)[number];

/** Collections of the main database: platform records, the store-wide outbox and its counter. */
export const PLATFORM_COLLECTIONS = ['tenants', 'apiKeys', 'outbox', 'counters'] as const;
export type PlatformCollectionName = (typeof PLATFORM_COLLECTIONS)[number];

export const INDEXES: Record<TenantCollectionName | PlatformCollectionName, IndexDescription[]> = {
  // Point reads go through `_id` (tenant id first); these serve ranges and cascades.
  users: [{ name: 'tenant_id', key: { tenantId: 1, id: 1 } }],
  channels: [
    // One channel per direct key; `c<id>` for the others keeps the index total.
    { name: 'tenant_unique_key', key: { tenantId: 1, uniqueKey: 1 }, unique: true },
    { name: 'tenant_type_id', key: { tenantId: 1, type: 1, id: 1 } },
  ],
  members: [
    { name: 'tenant_channel_user', key: { tenantId: 1, channelId: 1, userId: 1 }, unique: true },
    { name: 'tenant_user_channel', key: { tenantId: 1, userId: 1, channelId: 1 } },
  ],
  messages: [
    // The sequence allocator: a seq is taken by inserting the message, so two nodes can never
    // both take it, and a failed write takes nothing.
    { name: 'tenant_channel_seq', key: { tenantId: 1, channelId: 1, seq: 1 }, unique: true },
    // Idempotency of (channel, author, clientMsgId), settled by the same insert.
    { name: 'tenant_channel_client_key', key: { tenantId: 1, channelId: 1, clientKey: 1 }, unique: true },
    { name: 'tenant_parent_seq', key: { tenantId: 1, parentId: 1, seq: 1 } },
    // scanMessages (reindexing), by message id.
    { name: 'tenant_id', key: { tenantId: 1, id: 1 } },
  ],
  reactions: [{ name: 'tenant_channel_message', key: { tenantId: 1, channelId: 1, messageId: 1 } }],
  // One document per (kind, scope, user): its `_id`.
  sanctions: [
    { name: 'tenant_user', key: { tenantId: 1, userId: 1 } },
    { name: 'tenant_scope_user', key: { tenantId: 1, kind: 1, channelId: 1, userId: 1 } },
    { name: 'tenant_channel', key: { tenantId: 1, channelId: 1 } },
  ],
  blocks: [{ name: 'tenant_user_blocked', key: { tenantId: 1, userId: 1, blockedUserId: 1 } }],
  // When an author last sent in a slow-mode channel: `_id` (tenant, channel, user).
  slowModeMarks: [{ name: 'tenant_channel', key: { tenantId: 1, channelId: 1 } }],
  flags: [
    { name: 'tenant_open_key', key: { tenantId: 1, openKey: 1 }, unique: true },
    { name: 'tenant_id', key: { tenantId: 1, id: 1 } },
    { name: 'tenant_status_id', key: { tenantId: 1, status: 1, id: 1 } },
    { name: 'tenant_channel_status_id', key: { tenantId: 1, channelId: 1, status: 1, id: 1 } },
    { name: 'tenant_message_id', key: { tenantId: 1, messageId: 1, id: 1 } },
  ],
  audit: [
    { name: 'tenant_id', key: { tenantId: 1, id: 1 } },
    { name: 'tenant_action_id', key: { tenantId: 1, action: 1, id: 1 } },
    { name: 'tenant_target_id', key: { tenantId: 1, targetId: 1, id: 1 } },
  ],
  tenants: [],
  apiKeys: [{ name: 'tenant_created', key: { tenantId: 1, createdAt: -1 } }],
  outbox: [
    // pending(): unpublished events in id order (no partial index on FerretDB v1).
    { name: 'pending', key: { publishedAt: 1, _id: 1 } },
    { name: 'created', key: { createdAt: 1 } },
    { name: 'tenant', key: { tenantId: 1, _id: 1 } },
  ],
  counters: [],
};

/**
 * Creates the indexes of `names` in `db` that do not exist yet, one `createIndexes` call per
 * index: FerretDB v1.24 drops the connection (a server-side panic) when one call names two or more
 * indexes that already exist, which every node's start would do.
 */
export async function ensureIndexes(
  db: Db,
  names: readonly (TenantCollectionName | PlatformCollectionName)[],
): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const collection = db.collection(name);
      const existing = new Set(
        (await collection.listIndexes().toArray().catch(ignoreMissingCollection)).map((i) => String(i.name)),
      );
      for (const spec of INDEXES[name]) {
        if (!existing.has(spec.name ?? '')) await collection.createIndexes([spec]);
      }
    }),
  );
}

/** listIndexes on a collection that does not exist yet fails with NamespaceNotFound (26). */
function ignoreMissingCollection(err: unknown): { name?: unknown }[] {
  if ((err as { code?: unknown } | null)?.code === 26) return [];
  throw err;
}
