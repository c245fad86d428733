/**
 * The search contract against a real Elasticsearch 8 (`scripts/engines.sh up elasticsearch`), at
 * NATTER_ELASTICSEARCH_URL. Fails, never skips, when Elasticsearch is not running. Each run uses
 * its own indices and deletes them.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSearchContract } from '../../../test/contracts/search.contract.js';
import type { SearchDoc, SearchIndex } from '../../ports/search.js';
import { createElasticsearchSearch } from './elasticsearch.js';

const url = process.env.NATTER_ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const run = randomUUID().slice(0, 8);
const indexName = (what: string) => `natter-test-${what}-${run}`;

async function dropIndex(index: string): Promise<void> {
  const client = new Client({ node: url });
  try {
    await client.indices.delete({ index, ignore_unavailable: true });
  } finally {
    await client.close();
  }
}

runSearchContract({
  name: 'elasticsearch',
  async create() {
    const index = indexName('contract');
    return {
      index: await createElasticsearchSearch({ url, index }),
      cleanup: () => dropIndex(index),
    };
  },
});

function doc(messageId: string, channelId: string, text: string): SearchDoc {
  return { messageId, channelId, seq: 1, authorId: 'u1', text, createdAt: '2026-01-01T00:00:00.000Z' };
}

describe('elasticsearch search adapter', () => {
  const index = indexName('adapter');
  let search: SearchIndex;
  let client: Client;

  beforeAll(async () => {
    client = new Client({ node: url });
    search = await createElasticsearchSearch({ url, index, refresh: 'wait_for' });
  });
  afterAll(async () => {
    await search?.close();
    await client?.indices.delete({ index, ignore_unavailable: true });
    await client?.close();
  });

  it('creates the index with an explicit mapping, and reuses it on the next start', async () => {
    const mapping = (await client.indices.getMapping({ index }))[index]?.mappings;
    expect(mapping?.dynamic).toBe('strict');
    expect(mapping?._routing?.required).toBe(true);
    expect(mapping?.properties).toMatchObject({
      tenantId: { type: 'keyword' },
      channelId: { type: 'keyword' },
      messageId: { type: 'keyword' },
      seq: { type: 'integer' },
      createdAt: { type: 'date' },
      text: { type: 'text' },
      folded: { type: 'text', analyzer: 'whitespace' },
    });
    await search.upsert('t1', [doc('kept', 'c', 'still here after a restart')]);
    const again = await createElasticsearchSearch({ url, index });
    await again.refresh();
    expect((await again.search('t1', { text: 'restart', channelIds: ['c'], limit: 5, offset: 0 })).total).toBe(1);
    await again.close();
  });

  it('routes documents by tenant with id <tenantId>/<messageId> and stores the folded words', async () => {
    await search.upsert('acme', [doc('m1', 'c', 'Crème Brûlée, s’il vous plaît')]);
    const got = await client.get<Record<string, unknown>>({ index, id: 'acme/m1', routing: 'acme' });
    expect(got._routing).toBe('acme');
    expect(got._source).toMatchObject({ tenantId: 'acme', messageId: 'm1', folded: 'creme brulee s il vous plait' });
  });

  it('filters by tenant even for documents routed to the same shard', async () => {
    // Written directly with another tenant's routing: isolation must come from the filter.
    await client.index({
      index,
      id: 'intruder/x',
      routing: 'victim',
      refresh: 'wait_for',
      document: { ...doc('x', 'c', 'secret plans'), tenantId: 'intruder', folded: 'secret plans' },
    });
    await search.upsert('victim', [doc('y', 'c', 'public plans')]);
    const res = await search.search('victim', { text: 'plans', channelIds: ['c'], limit: 10, offset: 0 });
    expect(res.hits.map((h) => h.messageId)).toEqual(['y']);
  });

  it('indexes many documents in bulk and removes several at once', async () => {
    const docs = Array.from({ length: 1200 }, (_, i) => doc(`bulk-${i}`, 'bulk', `bulky number ${i}`));
    await search.upsert('t2', docs);
    await search.refresh();
    expect((await search.search('t2', { text: 'bulky', channelIds: ['bulk'], limit: 1, offset: 0 })).total).toBe(1200);
    await search.remove('t2', [...docs.slice(0, 600).map((d) => d.messageId), 'never-indexed']);
    await search.refresh();
    expect((await search.search('t2', { text: 'bulky', channelIds: ['bulk'], limit: 1, offset: 0 })).total).toBe(600);
  });

  it('ranks a fully typed last word above words that only start with it, and highlights from the original', async () => {
    await search.upsert('t3', [doc('a', 'r', 'Débutants bienvenus'), doc('b', 'r', 'Début du projet')]);
    const res = await search.search('t3', { text: 'DEBUT', channelIds: ['r'], limit: 10, offset: 0 });
    expect(res.hits.map((h) => h.highlight)).toEqual([
      '<mark>Début</mark> du projet',
      '<mark>Débutants</mark> bienvenus',
    ]);
  });

  it('answers the deepest page the REST API allows', async () => {
    await expect(
      search.search('t2', { text: 'bulky', channelIds: ['bulk'], limit: 100, offset: 10_000 }),
    ).resolves.toEqual({
      hits: [],
      total: 600,
    });
  });
});

describe('elasticsearch search adapter: unreachable', () => {
  it('rejects at start when Elasticsearch does not answer', async () => {
    await expect(createElasticsearchSearch({ url: 'http://127.0.0.1:9', index: indexName('none') })).rejects.toThrow();
  });
});
