/**
 * Embedded search: SQLite FTS5 in its own database file beside the store, so indexing never
 * contends with message writes. Words are matched with the unicode61 tokenizer (diacritics folded).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { escapeHtml, queryWords, type SearchDoc, type SearchIndex } from '../../ports/search.js';

export interface SqliteSearchOptions {
  /** Database file, or `:memory:`. */
  path: string;
}

const OPEN = '\u0001';
const CLOSE = '\u0002';

export function createSqliteSearch(options: SqliteSearchOptions): SearchIndex {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS search_docs (
      rowid INTEGER PRIMARY KEY,
      tenant_id TEXT NOT NULL,
      message_id TEXT NOT NULL,
      channel_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      author_id TEXT,
      created_at TEXT NOT NULL,
      text TEXT NOT NULL,
      UNIQUE (tenant_id, message_id)
    );
    CREATE INDEX IF NOT EXISTS search_docs_channel ON search_docs (tenant_id, channel_id);
    CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
      text, content='search_docs', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER IF NOT EXISTS search_docs_ai AFTER INSERT ON search_docs BEGIN
      INSERT INTO search_fts (rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TRIGGER IF NOT EXISTS search_docs_ad AFTER DELETE ON search_docs BEGIN
      INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;
  `);
  const del = db.prepare('DELETE FROM search_docs WHERE tenant_id = ? AND message_id = ?');
  const ins = db.prepare(
    `INSERT INTO search_docs (tenant_id, message_id, channel_id, seq, author_id, created_at, text)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const upsert = db.transaction((tenantId: string, docs: SearchDoc[]) => {
    for (const d of docs) {
      del.run(tenantId, d.messageId);
      ins.run(tenantId, d.messageId, d.channelId, d.seq, d.authorId, d.createdAt, d.text);
    }
  });
  const remove = db.transaction((tenantId: string, ids: string[]) => {
    for (const id of ids) del.run(tenantId, id);
  });

  return {
    name: 'sqlite-fts',
    async upsert(tenantId, docs) {
      upsert(tenantId, docs);
    },
    async remove(tenantId, messageIds) {
      remove(tenantId, messageIds);
    },
    async removeChannel(tenantId, channelId) {
      db.prepare('DELETE FROM search_docs WHERE tenant_id = ? AND channel_id = ?').run(tenantId, channelId);
    },
    async removeTenant(tenantId) {
      db.prepare('DELETE FROM search_docs WHERE tenant_id = ?').run(tenantId);
    },
    async search(tenantId, query) {
      const words = queryWords(query.text);
      if (words.length === 0 || query.channelIds.length === 0) return { hits: [], total: 0 };
      // Each word quoted: FTS5 operators in user input stay plain words. Last word matches prefixes.
      const match = words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
      const channels = JSON.stringify(query.channelIds);
      const where = `search_fts MATCH ? AND d.tenant_id = ? AND d.channel_id IN (SELECT value FROM json_each(?))`;
      const total = (
        db
          .prepare(
            `SELECT count(*) AS n FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid WHERE ${where}`,
          )
          .get(match, tenantId, channels) as { n: number }
      ).n;
      const rows = db
        .prepare(
          `SELECT d.message_id, d.channel_id, d.seq, highlight(search_fts, 0, ?, ?) AS hl
           FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid
           WHERE ${where} ORDER BY rank, d.created_at DESC LIMIT ? OFFSET ?`,
        )
        .all(OPEN, CLOSE, match, tenantId, channels, query.limit, query.offset) as {
        message_id: string;
        channel_id: string;
        seq: number;
        hl: string;
      }[];
      return {
        total,
        hits: rows.map((r) => ({
          messageId: r.message_id,
          channelId: r.channel_id,
          seq: r.seq,
          highlight: escapeHtml(r.hl).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>'),
        })),
      };
    },
    async refresh() {},
    async close() {
      if (db.open) db.close();
    },
  };
}
