/**
 * The search contract: every SearchIndex adapter passes this suite against its real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchDoc, SearchIndex } from '../../src/ports/search.js';

export interface SearchContractOptions {
  name: string;
  create: () => Promise<{ index: SearchIndex; cleanup?: () => Promise<void> }>;
}

let n = 0;
function doc(channelId: string, text: string, extra: Partial<SearchDoc> = {}): SearchDoc {
  n++;
  return {
    messageId: `m${n}`,
    channelId,
    seq: n,
    authorId: 'u1',
    text,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ...extra,
  };
}

export function runSearchContract(options: SearchContractOptions): void {
  describe(`search contract: ${options.name}`, () => {
    let index: SearchIndex;
    let cleanup: (() => Promise<void>) | undefined;
    const find = (tenantId: string, text: string, channelIds: string[], limit = 20, offset = 0) =>
      index.search(tenantId, { text, channelIds, limit, offset });

    beforeAll(async () => {
      ({ index, cleanup } = await options.create());
    });
    afterAll(async () => {
      await index.close();
      await cleanup?.();
    });

    it('finds documents by words, all words required, last word as a prefix', async () => {
      const a = doc('c1', 'The quarterly report is ready');
      const b = doc('c1', 'Lunch is ready downstairs');
      await index.upsert('t1', [a, b]);
      await index.refresh();
      expect((await find('t1', 'report', ['c1'])).hits.map((h) => h.messageId)).toEqual([a.messageId]);
      expect((await find('t1', 'ready', ['c1'])).total).toBe(2);
      expect((await find('t1', 'lunch ready', ['c1'])).hits.map((h) => h.messageId)).toEqual([b.messageId]);
      expect((await find('t1', 'quarter', ['c1'])).hits.map((h) => h.messageId)).toEqual([a.messageId]);
    });

    it('highlights matches and escapes everything else', async () => {
      const d = doc('c2', '<script>alert(1)</script> deploy done');
      await index.upsert('t1', [d]);
      await index.refresh();
      const [hit] = (await find('t1', 'deploy', ['c2'])).hits;
      expect(hit?.highlight).toContain('<mark>deploy</mark>');
      expect(hit?.highlight).not.toContain('<script>');
      expect(hit?.highlight).toContain('&#60;script&#62;');
    });

    it('searches only the channels asked for, and nothing with no channels', async () => {
      const x = doc('c3', 'zebra crossing');
      const y = doc('c4', 'zebra stripes');
      await index.upsert('t1', [x, y]);
      await index.refresh();
      expect((await find('t1', 'zebra', ['c3'])).hits.map((h) => h.messageId)).toEqual([x.messageId]);
      expect((await find('t1', 'zebra', ['c3', 'c4'])).total).toBe(2);
      expect(await find('t1', 'zebra', [])).toEqual({ hits: [], total: 0 });
    });

    it('keeps tenants apart even with the same channel and message ids', async () => {
      const mine = doc('shared', 'walrus in tenant one', { messageId: 'same-id' });
      const theirs = doc('shared', 'walrus in tenant two', { messageId: 'same-id' });
      await index.upsert('t1', [mine]);
      await index.upsert('t2', [theirs]);
      await index.refresh();
      const one = await find('t1', 'walrus', ['shared']);
      expect(one.total).toBe(1);
      expect(one.hits[0]?.highlight).toContain('one');
      await index.removeTenant('t2');
      await index.refresh();
      expect((await find('t2', 'walrus', ['shared'])).total).toBe(0);
      expect((await find('t1', 'walrus', ['shared'])).total).toBe(1);
    });

    it('replaces a document on upsert and forgets removed ones', async () => {
      const d = doc('c5', 'original wording');
      await index.upsert('t1', [d]);
      await index.upsert('t1', [{ ...d, text: 'edited phrasing' }]);
      await index.refresh();
      expect((await find('t1', 'original', ['c5'])).total).toBe(0);
      expect((await find('t1', 'phrasing', ['c5'])).total).toBe(1);
      await index.remove('t1', [d.messageId]);
      await index.refresh();
      expect((await find('t1', 'phrasing', ['c5'])).total).toBe(0);
    });

    it('removes a whole channel', async () => {
      await index.upsert('t1', [doc('c6', 'gone channel text'), doc('c6', 'gone channel more')]);
      await index.refresh();
      expect((await find('t1', 'gone', ['c6'])).total).toBe(2);
      await index.removeChannel('t1', 'c6');
      await index.refresh();
      expect((await find('t1', 'gone', ['c6'])).total).toBe(0);
    });

    it('treats query syntax as plain words', async () => {
      await index.upsert('t1', [doc('c7', 'plain NOT words OR "quotes" near(this)')]);
      await index.refresh();
      for (const q of ['NOT', 'OR', '"quotes', 'near(', '*', '{"$ne": null}', 'a AND', '-minus']) {
        await expect(find('t1', q, ['c7'])).resolves.toBeDefined();
      }
      expect((await find('t1', 'near(this', ['c7'])).total).toBe(1);
    });

    it('pages with limit and offset', async () => {
      const docs = Array.from({ length: 5 }, (_, i) => doc('c8', `pager item ${i}`));
      await index.upsert('t1', docs);
      await index.refresh();
      const first = await find('t1', 'pager', ['c8'], 2, 0);
      const second = await find('t1', 'pager', ['c8'], 2, 2);
      const third = await find('t1', 'pager', ['c8'], 2, 4);
      expect(first.total).toBe(5);
      const ids = [...first.hits, ...second.hits, ...third.hits].map((h) => h.messageId);
      expect(new Set(ids).size).toBe(5);
    });

    it('folds diacritics and case', async () => {
      await index.upsert('t1', [doc('c9', 'Café Déjà Vu')]);
      await index.refresh();
      expect((await find('t1', 'cafe deja', ['c9'])).total).toBe(1);
      expect((await find('t1', 'CAFÉ', ['c9'])).total).toBe(1);
    });
  });
}
