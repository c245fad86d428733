/**
 * The hostile suite's view of the harness server's SQLite file, read directly (read-only, beside
 * the server's own connection): what a tenant has stored, and whether the store is consistent.
 * Reading the rows, not the API, means a write the API would hide still shows.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { TestServer } from '../harness.js';

type Row = Record<string, unknown>;

/** Runs one read-only query on the server's database file. */
export function rawQuery<T = Row>(h: TestServer, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(h.server.config.dataDir, 'natter.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Columns that change without any request (the relay marks events published). */
const VOLATILE = new Set(['published_at']);
/** The outbox is drained and pruned in the background; its rows are not the tenant's data. */
const NOT_DATA = new Set(['outbox', 'schema_migrations', 'sqlite_sequence']);

/**
 * Every row the store holds for `tenantId`, table by table (found from the schema, so a table a
 * later migration adds is covered without editing this), in a stable order. Two snapshots are
 * equal exactly when nothing of the tenant was written in between.
 */
export function tenantRows(h: TestServer, tenantId: string): Record<string, Row[]> {
  const db = new Database(join(h.server.config.dataDir, 'natter.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    const out: Record<string, Row[]> = {};
    for (const table of tables) {
      if (NOT_DATA.has(table)) continue;
      const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
        .map((c) => c.name)
        .filter((c) => !VOLATILE.has(c));
      const key = table === 'tenants' ? 'id' : columns.includes('tenant_id') ? 'tenant_id' : null;
      if (!key) continue;
      const list = columns.map((c) => `"${c}"`).join(', ');
      out[table] = db.prepare(`SELECT ${list} FROM ${table} WHERE ${key} = ? ORDER BY ${list}`).all(tenantId) as Row[];
    }
    return out;
  } finally {
    db.close();
  }
}

/** Row counts of every data table, all tenants together. */
export function rowCounts(h: TestServer): Record<string, number> {
  const tables = rawQuery<{ name: string }>(h, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  const out: Record<string, number> = {};
  for (const { name } of tables) {
    if (NOT_DATA.has(name)) continue;
    out[name] = rawQuery<{ n: number }>(h, `SELECT COUNT(*) AS n FROM ${name}`)[0]?.n ?? 0;
  }
  return out;
}

/** Each check is a query listing the rows that break one invariant; all must come back empty. */
const INVARIANTS: Record<string, string> = {
  // Per-channel sequence numbers: 1..last_seq, each exactly once.
  'seq gap-free, from 1 to the channel last_seq': `
    SELECT c.tenant_id, c.id, c.last_seq, COUNT(m.seq) AS n, MIN(m.seq) AS lo, MAX(m.seq) AS hi
    FROM channels c LEFT JOIN messages m ON m.tenant_id = c.tenant_id AND m.channel_id = c.id
    GROUP BY c.tenant_id, c.id
    HAVING n <> c.last_seq OR (n > 0 AND (lo <> 1 OR hi <> c.last_seq))`,
  'messages without their channel': `
    SELECT m.tenant_id, m.id FROM messages m
    WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.tenant_id = m.tenant_id AND c.id = m.channel_id)`,
  'thread replies without their parent in the same channel': `
    SELECT m.tenant_id, m.id, m.parent_id FROM messages m
    WHERE m.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages p
      WHERE p.tenant_id = m.tenant_id AND p.id = m.parent_id AND p.channel_id = m.channel_id)`,
  'members without their channel': `
    SELECT m.tenant_id, m.channel_id, m.user_id FROM members m
    WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.tenant_id = m.tenant_id AND c.id = m.channel_id)`,
  'members without their user': `
    SELECT m.tenant_id, m.channel_id, m.user_id FROM members m
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = m.tenant_id AND u.id = m.user_id)`,
  'channel member_count not the number of members': `
    SELECT c.tenant_id, c.id, c.member_count,
      (SELECT COUNT(*) FROM members m WHERE m.tenant_id = c.tenant_id AND m.channel_id = c.id) AS n
    FROM channels c WHERE c.member_count <> n`,
  'reactions without their message': `
    SELECT r.tenant_id, r.message_id, r.user_id, r.type FROM reactions r
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = r.tenant_id AND m.id = r.message_id)`,
  'flags without their message': `
    SELECT f.tenant_id, f.id FROM flags f
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = f.tenant_id AND m.id = f.message_id)`,
  'channel sanctions without their channel': `
    SELECT s.tenant_id, s.kind, s.user_id, s.channel_id FROM sanctions s
    WHERE s.channel_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.tenant_id = s.tenant_id AND c.id = s.channel_id)`,
};

/**
 * One invariant per table with a `tenant_id` column (found from the schema, so a table a later
 * migration adds is covered): none of its rows belongs to a tenant that no longer exists. The
 * outbox and API keys included: deleting a tenant deletes its pending events and keys with it
 * (`platform-store.ts`); platform keys have no tenant.
 */
function tenantOrphanChecks(h: TestServer): Record<string, string> {
  const tables = rawQuery<{ name: string }>(h, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const columns = rawQuery<{ name: string }>(h, `PRAGMA table_info(${name})`).map((c) => c.name);
    if (!columns.includes('tenant_id')) continue;
    out[`${name} rows of a tenant that no longer exists`] = `
      SELECT x.tenant_id, COUNT(*) AS n FROM ${name} x
      WHERE x.tenant_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = x.tenant_id)
      GROUP BY x.tenant_id`;
  }
  return out;
}

/**
 * Asserts the store is consistent: gap-free sequences per channel, no orphan rows (of a deleted
 * channel, message, user or tenant), member and reaction counts that agree with the rows. Call it
 * before closing each hostile file's server, after everything the file threw at it.
 */
export function expectConsistentStore(h: TestServer): void {
  const broken: Record<string, Row[]> = {};
  const orphans = tenantOrphanChecks(h);
  // Every tenant table of migrations.ts, the outbox and API keys among them.
  expect(Object.keys(orphans).length, Object.keys(orphans).join(', ')).toBeGreaterThanOrEqual(12);
  const checks = { ...INVARIANTS, ...orphans };
  for (const [name, sql] of Object.entries(checks)) {
    const rows = rawQuery(h, sql);
    if (rows.length > 0) broken[name] = rows.slice(0, 5);
  }
  expect(broken).toEqual({});
  // The reaction counts each message shows agree with the reaction rows.
  const messages = rawQuery<{ tenant_id: string; id: string; reaction_counts: string }>(
    h,
    "SELECT tenant_id, id, reaction_counts FROM messages WHERE reaction_counts <> '{}'",
  );
  const rows = rawQuery<{ tenant_id: string; message_id: string; type: string; n: number }>(
    h,
    'SELECT tenant_id, message_id, type, COUNT(*) AS n FROM reactions GROUP BY tenant_id, message_id, type',
  );
  const fromRows = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const key = `${r.tenant_id}/${r.message_id}`;
    fromRows.set(key, { ...fromRows.get(key), [r.type]: r.n });
  }
  for (const m of messages) {
    const counts = Object.fromEntries(Object.entries(JSON.parse(m.reaction_counts)).filter(([, n]) => n !== 0));
    expect(counts, `reaction_counts of ${m.tenant_id}/${m.id}`).toEqual(fromRows.get(`${m.tenant_id}/${m.id}`) ?? {});
    fromRows.delete(`${m.tenant_id}/${m.id}`);
  }
  expect([...fromRows.keys()], 'reactions on messages that count none').toEqual([]);
}
