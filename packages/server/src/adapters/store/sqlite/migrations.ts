/**
 * Schema migrations of the SQLite store.
 *
 * Each migration has a version number and runs once, in order, in the IMMEDIATE transaction that
 * opens the store, so two processes opening the same file at once cannot both apply it. To change
 * the schema, append a migration; never edit one that has shipped.
 *
 * Conventions: every tenant table has `tenant_id` as the first column of its primary key and of
 * every index, so no tenant query can use an index without naming the tenant. Times are ISO-8601
 * TEXT (as produced by `Date#toISOString`, which sorts as text). JSON fields are TEXT.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  /** What the migration does, for humans reading `schema_migrations`. */
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: /* sql */ `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        signing_secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- Looked up by key id alone (the id arrives with the secret, before the tenant is known);
      -- tenant_id is null for platform keys.
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant_id TEXT,
        secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
      CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

      CREATE TABLE users (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT,
        avatar_url TEXT,
        role TEXT NOT NULL,
        custom TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );

      CREATE TABLE channels (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        name TEXT,
        custom TEXT NOT NULL,
        created_by TEXT,
        direct_key TEXT,
        last_seq INTEGER NOT NULL DEFAULT 0,
        last_message_at TEXT,
        frozen INTEGER NOT NULL DEFAULT 0,
        ended_at TEXT,
        -- Maintained by member writes: counting a large public channel on every read is not free.
        member_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE UNIQUE INDEX channels_by_direct_key ON channels (tenant_id, direct_key)
        WHERE direct_key IS NOT NULL;
      CREATE INDEX channels_by_type ON channels (tenant_id, type, id);

      CREATE TABLE members (
        tenant_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        last_read_at TEXT,
        joined_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, channel_id, user_id),
        FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX members_by_user ON members (tenant_id, user_id, channel_id);

      CREATE TABLE messages (
        tenant_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        client_msg_id TEXT,
        author_id TEXT,
        parent_id TEXT,
        type TEXT NOT NULL,
        text TEXT,
        attachments TEXT NOT NULL,
        custom TEXT NOT NULL,
        encrypted TEXT,
        reply_count INTEGER NOT NULL DEFAULT 0,
        reaction_counts TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        edited_at TEXT,
        deleted_at TEXT,
        PRIMARY KEY (tenant_id, channel_id, seq),
        FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
      );
      -- No index for top-level messages only: the primary key serves history, unread counts and
      -- the last message with a parent_id filter, and every index costs on the append hot path.
      CREATE UNIQUE INDEX messages_by_id ON messages (tenant_id, id);
      CREATE UNIQUE INDEX messages_by_client_id
        ON messages (tenant_id, channel_id, author_id, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
      CREATE INDEX messages_by_parent ON messages (tenant_id, parent_id, seq)
        WHERE parent_id IS NOT NULL;

      CREATE TABLE reactions (
        tenant_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, message_id, user_id, type),
        FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
      );

      -- A queue shared by all tenants, read in id order by the relay. AUTOINCREMENT keeps ids
      -- increasing even after pruning, since consumers drop redeliveries by id. No tenant index:
      -- only deleteTenant filters by tenant, and the pruned outbox stays small enough to scan.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        channel_id TEXT,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        published_at TEXT
      );
      CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
    `,
  },
  {
    version: 2,
    name: 'moderation: slow mode, bans and mutes, blocks, flags, audit log',
    sql: /* sql */ `
      ALTER TABLE channels ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;

      -- When each user last sent in a channel, recorded by appendMessage only while the channel
      -- is in slow mode (the seq increment already reads the channel row). An index on messages
      -- by author would answer the same question for every channel, but costs every append about
      -- a quarter of the throughput, for a feature few channels use.
      CREATE TABLE slow_mode_marks (
        tenant_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        last_sent_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, channel_id, user_id),
        FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
      );

      -- Bans and mutes; channel_id NULL means tenant-wide. NULLs never collide in a unique
      -- index, so the key indexes ifnull(channel_id, ''). Expired rows stay until replaced or
      -- removed: every read filters on expires_at. A channel's rows go with it (the foreign key
      -- is not checked for tenant-wide rows, whose channel_id is NULL).
      CREATE TABLE sanctions (
        tenant_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        user_id TEXT NOT NULL,
        channel_id TEXT,
        reason TEXT,
        created_by TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX sanctions_by_scope ON sanctions (tenant_id, kind, ifnull(channel_id, ''), user_id);
      CREATE INDEX sanctions_by_user ON sanctions (tenant_id, user_id);
      CREATE INDEX sanctions_by_channel ON sanctions (tenant_id, channel_id) WHERE channel_id IS NOT NULL;

      CREATE TABLE blocks (
        tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        blocked_user_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id, blocked_user_id)
      );

      -- Soft-deleted messages keep their flags; a channel's deletion removes its messages and so
      -- their flags. One open flag per (message, reporter); reporter_id NULL is the backend.
      CREATE TABLE flags (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        reporter_id TEXT,
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        resolution TEXT,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX flags_open_by_reporter ON flags (tenant_id, message_id, ifnull(reporter_id, ''))
        WHERE status = 'open';
      CREATE INDEX flags_by_message ON flags (tenant_id, message_id);
      CREATE INDEX flags_by_status ON flags (tenant_id, status, id);
      CREATE INDEX flags_by_channel ON flags (tenant_id, channel_id, status, id);

      CREATE TABLE audit_log (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        actor_type TEXT NOT NULL,
        actor_id TEXT,
        action TEXT NOT NULL,
        target_type TEXT NOT NULL,
        target_id TEXT NOT NULL,
        before_state TEXT NOT NULL,
        after_state TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX audit_by_action ON audit_log (tenant_id, action, id);
      CREATE INDEX audit_by_target ON audit_log (tenant_id, target_id, id);
    `,
  },
];

/**
 * Brings the schema of `db` up to the newest migration. Safe to call from several processes at
 * once: the IMMEDIATE transaction makes the second one wait, then find nothing left to apply.
 * @returns the versions applied by this call.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    const current = row.v ?? 0;
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
      applied.push(m.version);
    }
    return applied;
  });
  return apply.immediate();
}
