/**
 * Embedded search: SQLite FTS5 in its own database file beside the store, so indexing never
 * contends with message writes. Words are matched with the unicode61 tokenizer (diacritics folded).
 *
 * By default the index runs on its own thread (a `worker_threads` worker with its own connection):
 * tokenizing and writing the index cost about as much as storing the message itself (14 µs per
 * message, measured under the persisted-sends benchmark), and on the main thread that time is taken
 * from every connection. Calls keep their order (one queue, one connection), so a search issued
 * after an upsert resolved sees it. `thread: false` keeps everything on the calling thread.
 *
 * An upsert stores its documents (`search_docs`) at once, and the FTS5 index takes them in later,
 * those of up to `refreshMs` in one statement: FTS5 then writes fewer, larger segments, which cost
 * far less per document than a segment per upsert. A search, and closing, first index what waits,
 * so no search misses a document whose upsert resolved.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { escapeHtml, queryWords, type SearchDoc, type SearchIndex } from '../../ports/search.js';
import { LOWER_PRIORITY_SOURCE } from '../background-thread.js';

export interface SqliteSearchOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** Run the index on a worker thread. @default true */
  thread?: boolean;
  /**
   * Most milliseconds a stored document waits to go into the FTS5 index, with the others of that
   * time in one statement; a search first indexes what waits, so it finds every document upserted
   * before it. 0: each upsert indexes its documents at once. @default 1000
   */
  refreshMs?: number;
}

/** What the engine answers for a search: the caller turns the markers into escaped `<mark>`s. */
interface EngineResult {
  total: number;
  rows: { message_id: string; channel_id: string; seq: number; hl: string }[];
}

interface Engine {
  upsert(tenantId: string, docs: SearchDoc[]): void;
  remove(tenantId: string, messageIds: string[]): void;
  removeChannel(tenantId: string, channelId: string): void;
  removeTenant(tenantId: string): void;
  search(tenantId: string, match: string, channelIds: string, limit: number, offset: number): EngineResult;
  close(): void;
}

type EngineOp = keyof Engine;

/** Marks around highlighted words; they cannot occur in indexed text (control characters). */
const OPEN = '\u0001';
const CLOSE = '\u0002';

/**
 * The index itself: every statement it runs. It refers to nothing outside its own body, because
 * the worker thread receives it as source text (`String(ftsEngine)`).
 */
function ftsEngine(Driver: typeof Database, path: string, open: string, close: string, refreshMs: number): Engine {
  const db = new Driver(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Off the main thread by default: waiting for another process's lock stops no connection.
  db.pragma('busy_timeout = 5000');
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
  `);
  // Documents go into search_docs at once and into the FTS5 index later, all those of up to
  // `refreshMs` in one statement (see refresh): every row up to search_indexed.through is in the
  // index. A file from before kept the index in step with an insert trigger: all its rows are in.
  const deleteTrigger = db
    .prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'search_docs_ad'`)
    .pluck();
  const lastRow = db.prepare('SELECT max(rowid) FROM search_docs').pluck();
  const upToDate = () => String(deleteTrigger.get() ?? '').includes('search_indexed');
  if (!upToDate()) {
    db.transaction(() => {
      if (upToDate()) return;
      db.exec(
        'CREATE TABLE IF NOT EXISTS search_indexed (id INTEGER PRIMARY KEY CHECK (id = 1), through INTEGER NOT NULL)',
      );
      const legacy = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'search_docs_ai'`).get();
      const last = legacy ? (lastRow.get() as number | null) : null;
      db.prepare('INSERT OR IGNORE INTO search_indexed (id, through) VALUES (1, ?)').run(last ?? 0);
      db.exec(`
        DROP TRIGGER IF EXISTS search_docs_ai;
        DROP TRIGGER IF EXISTS search_docs_ad;
        CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs
          WHEN old.rowid <= (SELECT through FROM search_indexed) BEGIN
          INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        END;
      `);
    }).immediate();
  }
  const indexedThrough = db.prepare('SELECT through FROM search_indexed').pluck();
  const indexRows = db.prepare(
    'INSERT INTO search_fts (rowid, text) SELECT rowid, text FROM search_docs WHERE rowid > ? AND rowid <= ?',
  );
  const setIndexed = db.prepare('UPDATE search_indexed SET through = ?');
  /** Puts the rows not in the FTS5 index yet into it, in one statement. */
  const refresh = db.transaction(() => {
    const from = indexedThrough.get() as number;
    const to = (lastRow.get() as number | null) ?? 0;
    if (to <= from) return;
    indexRows.run(from, to);
    setIndexed.run(to);
  });
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refreshNow = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    // Only a refresh with rows to index takes the write lock (a NATTER_WORKERS sibling searches
    // the index its primary writes).
    if (((lastRow.get() as number | null) ?? 0) > (indexedThrough.get() as number)) refresh.immediate();
  };
  const refreshSoon = () => {
    if (refreshMs <= 0) return refreshNow();
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      try {
        refreshNow();
      } catch {
        // Another process held the file (a NATTER_WORKERS sibling searching): try again later.
        refreshSoon();
      }
    }, refreshMs);
    timer.unref?.();
  };
  // Rows a previous run stored and did not index yet.
  refreshNow();
  const del = db.prepare('DELETE FROM search_docs WHERE tenant_id = ? AND message_id = ?');
  // A new row's rowid is above every row indexed, even one deleted since (SQLite would hand out
  // the rowid of a deleted last row again, and that row would stay out of the index).
  const insert = `INSERT INTO search_docs (rowid, tenant_id, message_id, channel_id, seq, author_id, created_at, text)
     VALUES (max(coalesce((SELECT max(rowid) FROM search_docs), 0), (SELECT through FROM search_indexed)) + 1,
       ?, ?, ?, ?, ?, ?, ?)`;
  const ins = db.prepare(insert);
  // A conflict inserts nothing: the document is there already.
  const insNew = db.prepare(`${insert} ON CONFLICT (tenant_id, message_id) DO NOTHING`);
  const upsert = db.transaction((tenantId: string, docs: SearchDoc[]) => {
    for (const d of docs) {
      const row = [tenantId, d.messageId, d.channelId, d.seq, d.authorId, d.createdAt, d.text];
      // Most documents are new messages: they go in without a delete first. An edited one is
      // there already, and is deleted (the delete trigger takes its words out) and inserted again.
      if (insNew.run(...row).changes === 0) {
        del.run(tenantId, d.messageId);
        ins.run(...row);
      }
    }
  });
  const remove = db.transaction((tenantId: string, ids: string[]) => {
    for (const id of ids) del.run(tenantId, id);
  });
  const where = `search_fts MATCH ? AND d.tenant_id = ? AND d.channel_id IN (SELECT value FROM json_each(?))`;
  const count = db.prepare(
    `SELECT count(*) AS n FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid WHERE ${where}`,
  );
  const page = db.prepare(
    `SELECT d.message_id, d.channel_id, d.seq, highlight(search_fts, 0, ?, ?) AS hl
     FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid
     WHERE ${where} ORDER BY rank, d.created_at DESC LIMIT ? OFFSET ?`,
  );
  return {
    upsert: (tenantId, docs) => {
      upsert(tenantId, docs);
      refreshSoon();
    },
    remove: (tenantId, ids) => remove(tenantId, ids),
    removeChannel: (tenantId, channelId) => {
      db.prepare('DELETE FROM search_docs WHERE tenant_id = ? AND channel_id = ?').run(tenantId, channelId);
    },
    removeTenant: (tenantId) => {
      db.prepare('DELETE FROM search_docs WHERE tenant_id = ?').run(tenantId);
    },
    search: (tenantId, match, channelIds, limit, offset) => {
      // Everything upserted so far is found.
      refreshNow();
      return {
        total: (count.get(match, tenantId, channelIds) as { n: number }).n,
        rows: page.all(open, close, match, tenantId, channelIds, limit, offset) as EngineResult['rows'],
      };
    },
    close: () => {
      if (!db.open) return;
      refreshNow();
      db.close();
    },
  };
}

/**
 * The worker's program: builds the engine and answers `{ id, op, args }` with `{ id, value | error }`.
 * It loads modules with `import()` only, so it runs whether the thread starts it as a script or,
 * when the process was started with `--input-type=module`, as a module.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
${LOWER_PRIORITY_SOURCE}
  let engine;
  try {
    const Driver = (await import(workerData.driver)).default;
    engine = (${String(ftsEngine)})(Driver, workerData.path, workerData.open, workerData.close, workerData.refreshMs);
  } catch (error) {
    parentPort.postMessage({ id: 0, error: String((error && error.message) || error) });
    return;
  }
  parentPort.postMessage({ id: 0, value: null });
  parentPort.on('message', ({ id, op, args }) => {
    try {
      parentPort.postMessage({ id, value: engine[op](...args) });
    } catch (error) {
      parentPort.postMessage({ id, error: String((error && error.message) || error) });
    }
  });
})();
`;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The engine on a worker thread: each call is one message, answered in order. */
function threadedEngine(
  path: string,
  refreshMs: number,
): {
  call: (op: EngineOp, args: unknown[]) => Promise<unknown>;
  stop: () => Promise<void>;
} {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href,
      path,
      open: OPEN,
      close: CLOSE,
      refreshMs,
    },
  });
  const pending = new Map<number, Pending>();
  let next = 1;
  let failure: Error | null = null;
  const ready = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }));
  // A failure to open is answered to every call; until one is made, it is not an unhandled one.
  ready.catch(() => {});
  const fail = (error: Error) => {
    failure ??= error;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    // The thread keeps the process alive only while a call waits for it.
    if (pending.size === 0) worker.unref();
    if (m.error !== undefined) p.reject(new Error(`search index: ${m.error}`));
    else p.resolve(m.value);
  });
  worker.on('error', (err) => fail(new Error(`search index thread failed: ${err.message}`)));
  worker.on('exit', (code) => fail(new Error(`search index thread exited (code ${code})`)));
  const call = async (op: EngineOp, args: unknown[]) => {
    await ready;
    if (failure) throw failure;
    return new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, op, args });
    });
  };
  return {
    call,
    stop: async () => {
      if (!failure) await call('close', []).catch(() => {});
      await worker.terminate();
    },
  };
}

export function createSqliteSearch(options: SqliteSearchOptions): SearchIndex {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let call: (op: EngineOp, args: unknown[]) => Promise<unknown>;
  let stop: () => Promise<void>;
  const refreshMs = options.refreshMs ?? 1000;
  if (options.thread ?? true) {
    ({ call, stop } = threadedEngine(options.path, refreshMs));
  } else {
    const engine = ftsEngine(Database, options.path, OPEN, CLOSE, refreshMs);
    call = async (op, args) => (engine[op] as (...a: unknown[]) => unknown)(...args);
    stop = async () => engine.close();
  }
  let closed = false;

  return {
    name: 'sqlite-fts',
    async upsert(tenantId, docs) {
      await call('upsert', [tenantId, docs]);
    },
    async remove(tenantId, messageIds) {
      await call('remove', [tenantId, messageIds]);
    },
    async removeChannel(tenantId, channelId) {
      await call('removeChannel', [tenantId, channelId]);
    },
    async removeTenant(tenantId) {
      await call('removeTenant', [tenantId]);
    },
    async search(tenantId, query) {
      const words = queryWords(query.text);
      if (words.length === 0 || query.channelIds.length === 0) return { hits: [], total: 0 };
      // Each word quoted: FTS5 operators in user input stay plain words. Last word matches prefixes.
      const match = words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
      const { total, rows } = (await call('search', [
        tenantId,
        match,
        JSON.stringify(query.channelIds),
        query.limit,
        query.offset,
      ])) as EngineResult;
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
      if (closed) return;
      closed = true;
      await stop();
    },
  };
}
