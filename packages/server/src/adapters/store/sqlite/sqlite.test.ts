import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runStoreContract, type StoreEntity, type StoreRaw } from '../../../../test/contracts/store.contract.js';
import { createSqliteStore } from './index.js';
import { MIGRATIONS } from './migrations.js';

const TABLES: Record<StoreEntity, string> = {
  users: 'users',
  channels: 'channels',
  members: 'members',
  messages: 'messages',
  reactions: 'reactions',
  outbox: 'outbox',
  apiKeys: 'api_keys',
  sanctions: 'sanctions',
  blocks: 'blocks',
  flags: 'flags',
  audit: 'audit_log',
};

/** Reads the file through its own read-only connection, bypassing the store. */
function sqlRaw(path: string): StoreRaw {
  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  return {
    async tenantIdsOf(entity) {
      const rows = query<{ t: string | null }>(`SELECT DISTINCT tenant_id AS t FROM ${TABLES[entity]}`);
      return rows.map((r) => r.t);
    },
    async countOf(entity, tenantId) {
      const [row] = query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLES[entity]} WHERE tenant_id = ?`, tenantId);
      return row?.n ?? 0;
    },
  };
}

/** A fresh file in a directory that does not exist yet (the store creates it). */
function tempPath(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'natter-sqlite-'));
  return { dir, path: join(dir, 'nested', 'natter.db') };
}

runStoreContract({
  name: 'sqlite',
  async create() {
    const { dir, path } = tempPath();
    return {
      store: createSqliteStore({ path }),
      raw: sqlRaw(path),
      reopen: async () => createSqliteStore({ path }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe('sqlite store', () => {
  it('applies each migration once and keeps data across reopening', async () => {
    const { dir, path } = tempPath();
    try {
      const first = createSqliteStore({ path });
      await first.platform.createTenant({ id: 't', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
      await first.close();
      const second = createSqliteStore({ path });
      expect((await second.platform.getTenant('t'))?.name).toBe('T');
      await second.close();

      const db = new Database(path, { readonly: true });
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs in memory', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.platform.createTenant({ id: 't', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
    expect(await store.platform.getTenant('t')).not.toBeNull();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});
