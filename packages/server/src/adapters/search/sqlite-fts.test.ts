import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runSearchContract } from '../../../test/contracts/search.contract.js';
import { BACKGROUND_NICE } from '../background-thread.js';
import { createSqliteSearch } from './sqlite-fts.js';

const execFileAsync = promisify(execFile);

for (const thread of [true, false]) {
  runSearchContract({
    name: `sqlite-fts (${thread ? 'own thread' : 'calling thread'})`,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
      return {
        index: createSqliteSearch({ path: join(dir, 'search.db'), thread }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  });
}

describe('sqlite-fts on its own thread', () => {
  it('answers every call with the error when the index cannot be opened, and closes cleanly', async () => {
    // A directory where the database file should be: the thread cannot open it.
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    const index = createSqliteSearch({ path: dir });
    try {
      await expect(index.upsert('t1', [])).rejects.toThrow(/search index: .*open/);
      await expect(index.search('t1', { text: 'x', channelIds: ['c1'], limit: 1, offset: 0 })).rejects.toThrow(
        /search index/,
      );
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'linux')(
    'runs below the priority of the main thread, so that under load the event loop goes first',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
      // The process's threads by id, with their nice value (field 19 of stat(5), counted after the
      // parenthesised command name).
      const threads = () =>
        new Map(
          readdirSync('/proc/self/task').map((tid) => {
            const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
            return [tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])] as const;
          }),
        );
      const before = threads();
      const index = createSqliteSearch({ path: join(dir, 'search.db') });
      try {
        await index.upsert('t1', []);
        const added = [...threads()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
        const own = os.getPriority();
        expect(added).toContain(Math.min(19, own + BACKGROUND_NICE));
        expect(os.getPriority()).toBe(own);
      } finally {
        await index.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('keeps call order: a search after a resolved upsert, remove or channel removal sees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    const index = createSqliteSearch({ path: join(dir, 'search.db') });
    const doc = (i: number, channelId = 'c1') => ({
      messageId: `m${i}`,
      channelId,
      seq: i,
      authorId: null,
      text: `word${i % 3} common`,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    });
    const find = () => index.search('t1', { text: 'common', channelIds: ['c1', 'c2'], limit: 1, offset: 0 });
    try {
      // Fired without awaiting in between: the thread applies them in the order they were made.
      const writes = [
        index.upsert('t1', [doc(1), doc(2), doc(3, 'c2')]),
        index.remove('t1', ['m2']),
        index.removeChannel('t1', 'c2'),
      ];
      const found = find();
      await Promise.all(writes);
      expect((await found).total).toBe(1);
      await index.upsert(
        't1',
        Array.from({ length: 500 }, (_, i) => doc(10 + i)),
      );
      expect((await find()).total).toBe(501);
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite-fts thread and the process', () => {
  it('keeps a process alive while a call waits, and lets it exit when idle', async () => {
    // Inside the package, so that the bundle finds better-sqlite3 in node_modules.
    const dir = mkdtempSync(fileURLToPath(new URL('../../../test/.bundle-fts-', import.meta.url)));
    try {
      // The adapter bundled as the server ships it, used by a child whose only work is the calls:
      // it must get the answers (an idle thread must not let it exit early), then exit by itself.
      const { build } = await import('tsup');
      await build({
        entry: { fts: fileURLToPath(new URL('./sqlite-fts.ts', import.meta.url)) },
        format: ['esm'],
        target: 'node20',
        outDir: dir,
        external: [/^better-sqlite3$/],
        config: false,
        dts: false,
        silent: true,
        outExtension: () => ({ js: '.mjs' }),
      });
      const script = `
        import { createSqliteSearch } from ${JSON.stringify(pathToFileURL(join(dir, 'fts.mjs')).href)};
        const index = createSqliteSearch({ path: ${JSON.stringify(join(dir, 'search.db'))} });
        const doc = { messageId: 'm1', channelId: 'c1', seq: 1, authorId: null, text: 'hello there', createdAt: '2026-01-01T00:00:00.000Z' };
        await index.upsert('t1', [doc]);
        const found = await index.search('t1', { text: 'hello', channelIds: ['c1'], limit: 1, offset: 0 });
        console.log('found', found.total);
      `;
      const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('.', import.meta.url)),
        timeout: 15_000,
      });
      expect(stdout.trim()).toBe('found 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite-fts: stored documents wait for the FTS5 index', () => {
  const doc = (id: string, text: string) => ({
    messageId: id,
    channelId: 'c1',
    seq: Number(id.slice(1)),
    authorId: null,
    text,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const hits = async (index: ReturnType<typeof createSqliteSearch>, text: string) =>
    (await index.search('t1', { text, channelIds: ['c1'], limit: 10, offset: 0 })).hits.map((h) => h.messageId);
  /** The file's rows and how far the FTS5 index has them, read by a connection of its own. */
  const state = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return {
        rows: db.prepare('SELECT max(rowid) FROM search_docs').pluck().get(),
        indexed: db.prepare('SELECT through FROM search_indexed').pluck().get(),
      };
    } finally {
      db.close();
    }
  };
  /** FTS5's own check of the index against the stored documents; throws when they differ. */
  const integrityCheck = (path: string) => {
    const db = new Database(path);
    try {
      db.exec(`INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)`);
    } finally {
      db.close();
    }
  };
  const withIndex = async (
    refreshMs: number,
    body: (index: ReturnType<typeof createSqliteSearch>, path: string) => Promise<void>,
  ) => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    const path = join(dir, 'search.db');
    const index = createSqliteSearch({ path, refreshMs });
    try {
      await body(index, path);
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('indexes them together on a timer, and before any search at once', async () => {
    await withIndex(100, async (index, path) => {
      await index.upsert('t1', [doc('m1', 'alpha'), doc('m2', 'beta')]);
      expect(state(path)).toEqual({ rows: 2, indexed: 0 });
      await expect.poll(() => state(path).indexed, { timeout: 3000, interval: 20 }).toBe(2);
      await index.upsert('t1', [doc('m3', 'alpha')]);
      expect(state(path).indexed).toBe(2);
      expect(await hits(index, 'alpha')).toHaveLength(2);
      expect(state(path)).toEqual({ rows: 3, indexed: 3 });
    });
  });

  it('keeps the index whole through edits and removals, of documents waiting or indexed', async () => {
    await withIndex(60_000, async (index, path) => {
      await index.upsert('t1', [doc('m1', 'alpha one'), doc('m2', 'alpha two')]);
      expect(await hits(index, 'alpha')).toHaveLength(2);
      // The last row, indexed, goes: the next one must not take its rowid (it would never be indexed).
      await index.remove('t1', ['m2']);
      await index.upsert('t1', [doc('m3', 'gamma three')]);
      expect(state(path).rows).toBeGreaterThan(2);
      // Edited and removed while waiting.
      await index.upsert('t1', [doc('m1', 'delta one'), doc('m4', 'gamma four')]);
      await index.remove('t1', ['m4']);
      expect(await hits(index, 'gamma')).toEqual(['m3']);
      expect(await hits(index, 'alpha')).toEqual([]);
      expect(await hits(index, 'delta')).toEqual(['m1']);
      await index.removeChannel('t1', 'c1');
      expect(await hits(index, 'gamma')).toEqual([]);
    });
  });

  it('indexes what waited when it is closed, and keeps the file consistent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    const path = join(dir, 'search.db');
    try {
      const index = createSqliteSearch({ path, refreshMs: 60_000 });
      await index.upsert('t1', [doc('m1', 'alpha'), doc('m2', 'beta')]);
      await index.remove('t1', ['m1']);
      await index.close();
      expect(state(path)).toEqual({ rows: 2, indexed: 2 });
      expect(() => integrityCheck(path)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an index file kept by the insert trigger of before, without indexing its rows twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-search-'));
    const path = join(dir, 'search.db');
    try {
      const old = new Database(path);
      old.exec(`
        CREATE TABLE search_docs (rowid INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, message_id TEXT NOT NULL,
          channel_id TEXT NOT NULL, seq INTEGER NOT NULL, author_id TEXT, created_at TEXT NOT NULL,
          text TEXT NOT NULL, UNIQUE (tenant_id, message_id));
        CREATE INDEX search_docs_channel ON search_docs (tenant_id, channel_id);
        CREATE VIRTUAL TABLE search_fts USING fts5(
          text, content='search_docs', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
        CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
          INSERT INTO search_fts (rowid, text) VALUES (new.rowid, new.text);
        END;
        CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
          INSERT INTO search_fts (search_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        END;
        INSERT INTO search_docs (tenant_id, message_id, channel_id, seq, created_at, text)
          VALUES ('t1', 'm1', 'c1', 1, '2026-01-01T00:00:00.000Z', 'alpha'),
                 ('t1', 'm2', 'c1', 2, '2026-01-01T00:00:00.000Z', 'beta');
      `);
      old.close();
      const index = createSqliteSearch({ path, refreshMs: 60_000 });
      try {
        await index.upsert('t1', []); // answered once the thread has opened the file
        expect(state(path)).toEqual({ rows: 2, indexed: 2 });
        await index.upsert('t1', [doc('m3', 'alpha')]);
        await index.remove('t1', ['m2']);
        expect(await hits(index, 'alpha')).toHaveLength(2);
        expect(await hits(index, 'beta')).toEqual([]);
      } finally {
        await index.close();
      }
      expect(() => integrityCheck(path)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
