/**
 * What the parts of the MongoDB store share: the client, the collections (per tenant database in
 * database-per-tenant mode), in-process locks, and the path of every write's events to the outbox.
 */
import { createHash } from 'node:crypto';
import type { Collection, Db, MongoClient } from 'mongodb';
import type { EventInput } from '../../../domain/events.js';
import type {
  ApiKeyDoc,
  ChannelDoc,
  CounterDoc,
  MemberDoc,
  MessageDoc,
  OutboxDoc,
  ReactionDoc,
  TenantDoc,
  UserDoc,
} from './documents.js';
import { EventSequencer } from './event-sequencer.js';
import { ensureIndexes, TENANT_COLLECTIONS } from './indexes.js';
import { KeyedLock } from './keyed-lock.js';
import type { AuditDoc, BlockDoc, FlagDoc, SanctionDoc, SlowModeMarkDoc } from './moderation-documents.js';
import { OutboxWriter } from './outbox-writer.js';

/** One tenant's collections. */
export interface TenantCollections {
  users: Collection<UserDoc>;
  channels: Collection<ChannelDoc>;
  members: Collection<MemberDoc>;
  messages: Collection<MessageDoc>;
  reactions: Collection<ReactionDoc>;
  sanctions: Collection<SanctionDoc>;
  blocks: Collection<BlockDoc>;
  flags: Collection<FlagDoc>;
  audit: Collection<AuditDoc>;
  slowModeMarks: Collection<SlowModeMarkDoc>;
}

export interface MongoContextOptions {
  databasePerTenant: boolean;
  /** Prefix of tenant database names in database-per-tenant mode. */
  tenantDbPrefix: string;
  onError?: (err: unknown) => void;
}

export class MongoContext {
  readonly locks = new KeyedLock();
  readonly tenants: Collection<TenantDoc>;
  readonly apiKeys: Collection<ApiKeyDoc>;
  readonly outbox: Collection<OutboxDoc>;
  readonly writer: OutboxWriter;
  private readonly sequencers = new Map<string, EventSequencer>();
  /** Per-tenant mode: the tenant databases whose indexes this process has ensured. */
  private readonly tenantDbs = new Map<string, Promise<TenantCollections>>();
  private readonly shared: TenantCollections | null;

  constructor(
    readonly client: MongoClient,
    readonly db: Db,
    readonly options: MongoContextOptions,
  ) {
    this.tenants = db.collection<TenantDoc>('tenants');
    this.apiKeys = db.collection<ApiKeyDoc>('apiKeys');
    this.outbox = db.collection<OutboxDoc>('outbox');
    this.writer = new OutboxWriter(this.outbox, db.collection<CounterDoc>('counters'), {
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.shared = options.databasePerTenant ? null : collectionsOf(db);
  }

  /**
   * The collections of `tenantId`, for a write. In database-per-tenant mode the first call per
   * tenant and process creates the tenant database's indexes (idempotent, so every node may).
   */
  writable(tenantId: string): Promise<TenantCollections> {
    if (this.shared) return Promise.resolve(this.shared);
    let cols = this.tenantDbs.get(tenantId);
    if (!cols) {
      const db = this.client.db(this.tenantDbName(tenantId));
      cols = ensureIndexes(db, TENANT_COLLECTIONS).then(() => collectionsOf(db));
      // A failed attempt is not cached: the next call tries again.
      cols.catch(() => this.tenantDbs.delete(tenantId));
      this.tenantDbs.set(tenantId, cols);
    }
    return cols;
  }

  /**
   * The collections of `tenantId`, for a read: reads need no index to be correct, so reading a
   * tenant that has no database yet does not create one.
   */
  readable(tenantId: string): TenantCollections {
    return this.shared ?? collectionsOf(this.client.db(this.tenantDbName(tenantId)));
  }

  /**
   * Database of a tenant in per-tenant mode: the prefix and 24 hex digits of the SHA-256 of the
   * tenant id. Any tenant id maps to a valid name (MongoDB forbids `/\. "$` and FerretDB allows
   * only `[A-Za-z0-9_-]`, 63 characters at most), and 96 bits make collisions negligible.
   */
  tenantDbName(tenantId: string): string {
    return this.options.tenantDbPrefix + createHash('sha256').update(tenantId).digest('hex').slice(0, 24);
  }

  /** Forgets what this process cached about a deleted tenant. */
  forgetTenant(tenantId: string): void {
    this.tenantDbs.delete(tenantId);
  }

  /** The event order of one tenant (see {@link EventSequencer}). */
  sequencer(tenantId: string): EventSequencer {
    let s = this.sequencers.get(tenantId);
    if (!s) {
      const created = new EventSequencer(this.writer, tenantId, () => {
        if (this.sequencers.get(tenantId) === created) this.sequencers.delete(tenantId);
      });
      s = created;
      this.sequencers.set(tenantId, s);
    }
    return s;
  }
}

function collectionsOf(db: Db): TenantCollections {
  return {
    users: db.collection<UserDoc>('users'),
    channels: db.collection<ChannelDoc>('channels'),
    members: db.collection<MemberDoc>('members'),
    messages: db.collection<MessageDoc>('messages'),
    reactions: db.collection<ReactionDoc>('reactions'),
    sanctions: db.collection<SanctionDoc>('sanctions'),
    blocks: db.collection<BlockDoc>('blocks'),
    flags: db.collection<FlagDoc>('flags'),
    audit: db.collection<AuditDoc>('audit'),
    slowModeMarks: db.collection<SlowModeMarkDoc>('slowModeMarks'),
  };
}

/** What every tenant-scoped operation receives: the shared context and the tenant it is bound to. */
export interface TenantScope {
  readonly ctx: MongoContext;
  readonly tenantId: string;
}

/** What a write produced: its result and the events `emit` built for it (none when unchanged). */
export interface Written<T> {
  result: T;
  events: readonly EventInput[];
}

/**
 * Runs a tenant write and stores its events in the outbox before resolving.
 *
 * Call it synchronously at the start of the write (before any `await`): when `withEvents` is
 * true it takes the write's place in the tenant's event order right away (see EventSequencer).
 * `body` calls `emit` on the result computed in memory BEFORE its first database write, so an
 * `emit` that throws leaves nothing stored. The events are inserted after the data: no MongoDB
 * feature shared with FerretDB v1 makes the two one atomic unit (no multi-document transactions),
 * so a crash between the two loses the events, never the data.
 */
export async function write<T>(s: TenantScope, withEvents: boolean, body: () => Promise<Written<T>>): Promise<T> {
  const ticket = withEvents ? s.ctx.sequencer(s.tenantId).reserve() : null;
  let written: Written<T>;
  try {
    written = await body();
  } catch (err) {
    ticket?.cancel();
    throw err;
  }
  if (ticket) await ticket.commit(written.events);
  return written.result;
}

/** Current time as stored: ISO-8601 in UTC with milliseconds (sorts as text). */
export function now(): string {
  return new Date().toISOString();
}

/** Lock keys; one namespace per document kind, tenant id first. */
export const lockKey = {
  channel: (tenantId: string, channelId: string) => `c${JSON.stringify([tenantId, channelId])}`,
  message: (tenantId: string, messageId: string) => `m${JSON.stringify([tenantId, messageId])}`,
  member: (tenantId: string, channelId: string, userId: string) => `b${JSON.stringify([tenantId, channelId, userId])}`,
  user: (tenantId: string, userId: string) => `u${JSON.stringify([tenantId, userId])}`,
};
