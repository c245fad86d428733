import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteSearch } from '../adapters/search/sqlite-fts.js';
import { createSqliteStore } from '../adapters/store/sqlite/index.js';
import type { SearchIndex } from '../ports/search.js';
import type { Store, TenantStore } from '../ports/store.js';
import type { Progress } from './progress.js';
import { reindex } from './reindex.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** Records what a progress receives. */
function recorder(): Progress & { total: number; done: number; finished: boolean } {
  return {
    total: -1,
    done: 0,
    finished: false,
    start(n) {
      this.total = n;
    },
    advance(n) {
      this.done += n;
    },
    finish() {
      this.finished = true;
    },
  };
}

async function tenant(store: Store, id: string): Promise<TenantStore> {
  await store.platform.createTenant({ id, name: id, settings: { allowedOrigins: [] }, signingSecret: 's' });
  const t = store.tenant(id);
  await t.upsertUsers([{ id: 'u1' }]);
  await t.createChannel({ id: 'c1', type: 'group', members: [{ userId: 'u1', role: 'owner' }] }, at(0));
  return t;
}

let n = 0;
async function send(t: TenantStore, text: string, extra: { parentId?: string; encrypted?: boolean } = {}) {
  n++;
  const { message } = await t.appendMessage({
    id: `msg_${String(n).padStart(6, '0')}`,
    channelId: 'c1',
    authorId: 'u1',
    type: 'regular',
    text,
    createdAt: at(n),
    ...(extra.parentId ? { parentId: extra.parentId } : {}),
    ...(extra.encrypted ? { encrypted: { alg: 'x', ciphertext: 'opaque' } } : {}),
  });
  return message;
}

describe('reindex (SQLite store, SQLite FTS search)', () => {
  let store: Store;
  let search: SearchIndex;
  const ids = async (tenantId: string, q: string) =>
    (await search.search(tenantId, { text: q, channelIds: ['c1'], limit: 50, offset: 0 })).hits.map((h) => h.messageId);

  beforeEach(() => {
    store = createSqliteStore({ path: ':memory:' });
    search = createSqliteSearch({ path: ':memory:' });
  });
  afterEach(async () => {
    await search.close();
    await store.close();
  });

  it('indexes what the store has and the index lacks; deleted and encrypted messages are not searchable', async () => {
    const a = await tenant(store, 'A');
    const b = await tenant(store, 'B');
    const report = await send(a, 'Quarterly report ready');
    const reply = await send(a, 'report reply in a thread', { parentId: report.id });
    const deleted = await send(a, 'report to be deleted');
    const secret = await send(a, 'report encrypted', { encrypted: true });
    const other = await send(b, 'report of tenant B');
    // The index once saw the deleted and encrypted messages (stale), and nothing else.
    await search.upsert('A', [
      {
        messageId: deleted.id,
        channelId: 'c1',
        seq: deleted.seq,
        authorId: 'u1',
        text: 'report to be deleted',
        createdAt: at(0),
      },
      {
        messageId: secret.id,
        channelId: 'c1',
        seq: secret.seq,
        authorId: 'u1',
        text: 'report encrypted',
        createdAt: at(0),
      },
    ]);
    await a.deleteMessage(deleted.id, at(99));
    expect(await ids('A', 'quarterly')).toEqual([]);

    const progress = recorder();
    const lines: string[] = [];
    const result = await reindex({ store, search, progress, log: (l) => lines.push(l), batchSize: 2 });

    expect(result).toEqual({ tenants: 2, scanned: 5, indexed: 3, removed: 2 });
    expect((await ids('A', 'report')).sort()).toEqual([report.id, reply.id].sort());
    expect(await ids('A', 'deleted')).toEqual([]);
    expect(await ids('A', 'encrypted')).toEqual([]);
    expect(await ids('B', 'report')).toEqual([other.id]);
    expect(progress).toMatchObject({ total: 5, done: 5, finished: true });
    expect(lines[0]).toBe('reindex: 5 messages of 2 tenants into sqlite-fts');
    expect(lines.at(-1)).toContain('3 messages indexed');
  });

  it('is idempotent and picks up edits', async () => {
    const a = await tenant(store, 'A');
    const m = await send(a, 'first wording');
    await reindex({ store, search });
    await a.updateMessage(m.id, { text: 'second wording', updatedAt: at(50) });
    const again = await reindex({ store, search });
    const third = await reindex({ store, search });
    expect(third).toEqual(again);
    expect(await ids('A', 'first')).toEqual([]);
    expect(await ids('A', 'wording')).toEqual([m.id]);
    expect((await search.search('A', { text: 'wording', channelIds: ['c1'], limit: 5, offset: 0 })).total).toBe(1);
  });

  it('drops documents of messages the store no longer has only with clean', async () => {
    const a = await tenant(store, 'A');
    const kept = await send(a, 'orphan check kept');
    await search.upsert('A', [
      { messageId: 'vanished', channelId: 'c1', seq: 99, authorId: 'u1', text: 'orphan check gone', createdAt: at(0) },
    ]);
    await reindex({ store, search });
    expect((await ids('A', 'orphan')).sort()).toEqual([kept.id, 'vanished'].sort());
    await reindex({ store, search, clean: true });
    expect(await ids('A', 'orphan')).toEqual([kept.id]);
  });

  it('handles a store with no tenants or no messages', async () => {
    const progress = recorder();
    expect(await reindex({ store, search, progress })).toEqual({ tenants: 0, scanned: 0, indexed: 0, removed: 0 });
    await tenant(store, 'empty');
    expect(await reindex({ store, search, progress })).toMatchObject({ tenants: 1, scanned: 0 });
    expect(progress).toMatchObject({ total: 0, finished: true });
  });
});
