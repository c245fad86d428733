import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
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
