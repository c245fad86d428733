import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteSearch } from '../adapters/search/sqlite-fts.js';
import { createSqliteStore } from '../adapters/store/sqlite/index.js';
import { runReindexCommand } from './reindex-command.js';

function io(env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c) }, env },
  };
}

describe('natter-server reindex (embedded engines from NATTER_DATA_DIR)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'natter-reindex-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rebuilds the configured search index from the configured store and exits 0', async () => {
    const store = createSqliteStore({ path: join(dir, 'natter.db') });
    await store.platform.createTenant({ id: 'T', name: 'T', settings: { allowedOrigins: [] }, signingSecret: 's' });
    const t = store.tenant('T');
    await t.upsertUsers([{ id: 'u' }]);
    await t.createChannel(
      { id: 'c', type: 'group', members: [{ userId: 'u', role: 'owner' }] },
      '2026-01-01T00:00:00.000Z',
    );
    await t.appendMessage({
      id: 'm1',
      channelId: 'c',
      authorId: 'u',
      type: 'regular',
      text: 'needle in the store',
      createdAt: '2026-01-01T00:00:01.000Z',
    });
    await store.close();

    const run = io({ NATTER_DATA_DIR: dir });
    expect(await runReindexCommand([], run.io)).toBe(0);
    expect(run.out.join('')).toContain('1 messages indexed');
    expect(run.err.join('')).toContain('reindex: 100% (1/1 messages)');

    const search = createSqliteSearch({ path: join(dir, 'search.db') });
    expect((await search.search('T', { text: 'needle', channelIds: ['c'], limit: 5, offset: 0 })).total).toBe(1);
    await search.close();
    expect(await runReindexCommand(['--clean'], io({ NATTER_DATA_DIR: dir }).io)).toBe(0);
  });

  it('exits 64 on an unknown argument and 78 on a bad setting', async () => {
    const bad = io({ NATTER_DATA_DIR: dir });
    expect(await runReindexCommand(['--nope'], bad.io)).toBe(64);
    expect(bad.err.join('')).toContain('unknown argument --nope');
    const config = io({ NATTER_DATA_DIR: dir, NATTER_ELASTICSEARCH_URL: 'ftp://x' });
    expect(await runReindexCommand([], config.io)).toBe(78);
    expect(config.err.join('')).toContain('NATTER_ELASTICSEARCH_URL');
  });

  it('exits 1 with one line when an engine cannot be reached', async () => {
    const down = io({ NATTER_DATA_DIR: dir, NATTER_ELASTICSEARCH_URL: 'http://127.0.0.1:9' });
    expect(await runReindexCommand([], down.io)).toBe(1);
    expect(down.err.join('')).toMatch(
      /^natter: reindex failed: NATTER_ELASTICSEARCH_URL=http:\/\/127\.0\.0\.1:9: cannot start/,
    );
  });
});
