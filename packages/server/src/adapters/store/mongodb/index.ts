/**
 * The MongoDB store: every tenant's data in MongoDB or a wire-compatible server, tested
 * against FerretDB v1.24 (SQLite backend). The `mongodb` driver is imported when the factory
 * runs, never by the embedded default.
 *
 * Uses only what MongoDB and FerretDB v1.24 share: single-document writes, unique compound indexes
 * (and the `_id` index), ordered/unordered `insertMany`, `bulkWrite` (`replaceOne` with upsert),
 * `findOneAndUpdate` with `$inc`/`$set`, `upsert` and `returnDocument: 'after'`, `updateOne` /
 * `updateMany` with `$set`, `$inc`, `$max`, `$setOnInsert`, `$unset`, `deleteOne` /
 * `deleteMany`, `find` with `$in`, `$gt`, `$lt`, `$ne`, `$lte`, `$or`, null matches, sort, limit
 * and projection, `countDocuments`, `listIndexes`, `createIndexes`, `dropDatabase`, `ping`, and
 * write concern `majority`. It
 * avoids what FerretDB v1 lacks or gets wrong: multi-document transactions, change streams,
 * partial and TTL indexes, `$lookup`, `$group` with `$max`, and atomic read-modify-write
 * (FerretDB applies `$inc` and conditional updates as read, modify, write back, so concurrent
 * updates of one document can be lost). See docs/engines.md, "MongoDB store".
 *
 * How it stays correct without transactions:
 * - Sequence numbers are taken by inserting the message under a unique (channel, seq) index;
 *   idempotency of clientMsgId by a unique (channel, author + clientMsgId) index on the same
 *   insert (append-queue.ts). Gap-free and duplicate-free across nodes on both engines.
 * - `emit` runs on the result built in memory before the first write, so a throwing `emit`
 *   stores nothing; the events are inserted into the outbox after the data and before the call
 *   resolves. A crash between the two loses the events of that write, never its data: clients
 *   notice the missing seq (gap detection) and fetch history; search catches up by reindexing.
 * - Outbox ids come from a counter document (`$inc` by the number of events of a round) and are
 *   checked by the `_id` index (outbox-writer.ts); they increase in insertion order per store.
 * - Within one process, writes of one document are serialized (keyed-lock.ts), which makes
 *   counters (member, reply and reaction counts) exact on FerretDB for a single node. Across
 *   nodes, MongoDB's `$inc` is atomic; FerretDB v1 can lose a concurrent cross-node increment.
 *
 * @example
 * const store = await createMongoStore({ url: 'mongodb://127.0.0.1:27017/', dbName: 'natter' });
 * const t = store.tenant('acme');
 * await t.appendMessage({ id, channelId: 'general', authorId: 'ann', type: 'regular', text: 'hi', createdAt });
 * @see docs/engines.md
 */
import type { MongoClientOptions } from 'mongodb';
import type { Store, TenantStore } from '../../../ports/store.js';
import { MongoContext } from './connection.js';
import { ensureIndexes, PLATFORM_COLLECTIONS, TENANT_COLLECTIONS } from './indexes.js';
import { str } from './inputs.js';
import { MongoOutboxStore } from './outbox-store.js';
import { MongoPlatformStore } from './platform-store.js';
import { MongoTenantStore } from './tenant-store.js';

export interface MongoStoreOptions {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017/`. */
  url: string;
  /**
   * The main database: tenants, API keys, the outbox, and (unless `databasePerTenant`) all tenant
   * data. Letters, digits, `_` and `-` only. @default the database named in `url`
   * (`mongodb://host/natter`), else `natter`
   */
  dbName?: string;
  /**
   * Keep each tenant's users, channels, members, messages and reactions in a database of its own
   * (named `tenantDbPrefix` + 24 hex digits of the SHA-256 of the tenant id); deleting the tenant
   * drops it. Platform records and the outbox stay in the main database. @default false
   */
  databasePerTenant?: boolean;
  /** Prefix of tenant database names. @default `${dbName}_t_` */
  tenantDbPrefix?: string;
  /**
   * Further driver options. Write concern is always `{ w: 'majority' }`: an acknowledged write
   * survives a primary failover.
   */
  clientOptions?: MongoClientOptions;
  /** Errors that do not fail a call: outbox rounds being retried, counters that could not move. */
  onError?: (err: unknown) => void;
}

const DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;

/** Connects, creates missing indexes, and returns the store. */
export async function createMongoStore(options: MongoStoreOptions): Promise<Store> {
  const dbName = options.dbName ?? dbNameOf(options.url) ?? 'natter';
  const databasePerTenant = options.databasePerTenant ?? false;
  const tenantDbPrefix = options.tenantDbPrefix ?? `${dbName}_t_`;
  if (!DB_NAME.test(dbName)) throw new Error(`invalid MongoDB database name: ${dbName}`);
  if (databasePerTenant && !DB_NAME.test(`${tenantDbPrefix}${'0'.repeat(24)}`)) {
    throw new Error(`tenantDbPrefix must be letters, digits, _ or - and at most 39 characters: ${tenantDbPrefix}`);
  }

  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(options.url, {
    ...options.clientOptions,
    writeConcern: { w: 'majority' },
    ignoreUndefined: true,
  });
  await client.connect();
  const db = client.db(dbName);
  try {
    await ensureIndexes(
      db,
      databasePerTenant ? PLATFORM_COLLECTIONS : [...PLATFORM_COLLECTIONS, ...TENANT_COLLECTIONS],
    );
  } catch (err) {
    await client.close();
    throw err;
  }
  const ctx = new MongoContext(client, db, {
    databasePerTenant,
    tenantDbPrefix,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    name: 'mongodb',
    platform: new MongoPlatformStore(ctx),
    outbox: new MongoOutboxStore(ctx),
    tenant(tenantId: string): TenantStore {
      return new MongoTenantStore(ctx, str(tenantId, 'tenantId'));
    },
    async ping() {
      await db.command({ ping: 1 });
    },
    close() {
      closing ??= (async () => {
        await ctx.writer.close();
        await client.close();
      })();
      return closing;
    },
  };
}

/** The database in the path of a connection string (`mongodb://h1,h2/natter?replicaSet=rs0`). */
function dbNameOf(url: string): string | undefined {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(url)?.[1];
  return path ? decodeURIComponent(path) : undefined;
}
