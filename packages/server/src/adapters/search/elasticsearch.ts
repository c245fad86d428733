/**
 * Search on Elasticsearch 8: one index shared by all tenants, documents routed by tenant id.
 *
 * Tenant isolation never depends on routing: every query is filtered by a `term` on `tenantId`
 * and a `terms` on the channels asked for; routing only sends a tenant's reads and writes to one
 * shard. Document ids are `<tenantId>/<messageId>`, so two tenants' equal message ids never meet.
 *
 * Matching and highlighting are done by the server (`domain/highlight.ts`), not by Elasticsearch
 * analyzers, so they behave like the embedded adapter and work on distributions without the
 * `analysis-common` module (no `asciifolding`): the `folded` field holds the text's folded words
 * joined by spaces, indexed with the `whitespace` analyzer; queries are built from the folded
 * query words with `match` and `prefix` (user input is never parsed as query syntax); the
 * highlight is computed from the original `text` in `_source`.
 *
 * Channels and tenants are removed with `_delete_by_query`; clusters without it (it lives in the
 * `reindex` module, absent from the integ-test distribution) get a search_after scan + `_bulk`
 * deletes instead.
 *
 * `@elastic/elasticsearch` is imported when the factory runs, never by the embedded default.
 *
 * @see docs/engines.md "Elasticsearch search"
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { foldedWords, highlight } from '../../domain/highlight.js';
import { queryWords, type SearchDoc, type SearchIndex } from '../../ports/search.js';

export interface ElasticsearchSearchOptions {
  /** Node URL, e.g. `http://127.0.0.1:9200`. */
  url: string;
  /**
   * Index shared by all tenants; created with its mapping on start when missing.
   * @default 'natter-messages'
   */
  index?: string;
  /**
   * `'wait_for'` makes each write wait until it is searchable (slower writes); with `false`
   * writes become visible at the next periodic refresh (1 s) or {@link SearchIndex.refresh}.
   * @default false
   */
  refresh?: 'wait_for' | false;
}

/** What is stored per message. `folded` is derived from `text` by the server. */
interface EsDoc {
  tenantId: string;
  messageId: string;
  channelId: string;
  seq: number;
  authorId: string | null;
  createdAt: string;
  text: string;
  folded: string;
}

/** Deepest page reachable (`from + size`): the REST route allows offset 10,000 + limit 100. */
const MAX_RESULT_WINDOW = 10_100;
/** Documents per `_bulk` request. */
const BULK_CHUNK = 500;

/** The index definition. Exported for the docs and tests. */
export const INDEX_BODY = {
  settings: { index: { max_result_window: MAX_RESULT_WINDOW } },
  mappings: {
    dynamic: 'strict',
    // A write without routing would land on the wrong shard for its tenant: refuse it.
    _routing: { required: true },
    properties: {
      tenantId: { type: 'keyword' },
      channelId: { type: 'keyword' },
      messageId: { type: 'keyword' },
      authorId: { type: 'keyword' },
      seq: { type: 'integer' },
      createdAt: { type: 'date' },
      text: { type: 'text' },
      // Prefix terms indexed too, so the last (prefix) word is a term lookup, not a term scan.
      folded: { type: 'text', analyzer: 'whitespace', index_prefixes: { min_chars: 1, max_chars: 10 } },
    },
  },
} satisfies Pick<estypes.IndicesCreateRequest, 'settings' | 'mappings'>;

function toEsDoc(tenantId: string, d: SearchDoc): EsDoc {
  return {
    tenantId,
    messageId: d.messageId,
    channelId: d.channelId,
    seq: d.seq,
    authorId: d.authorId,
    createdAt: d.createdAt,
    text: d.text,
    folded: foldedWords(d.text).join(' '),
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Throws the first failed item of a bulk response (a delete of a missing document is no failure). */
function checkBulk(res: estypes.BulkResponse): void {
  if (!res.errors) return;
  for (const item of res.items) {
    const result = item.index ?? item.delete ?? item.create ?? item.update;
    if (result?.error && result.status !== 404) {
      throw new Error(`elasticsearch bulk ${result._id}: ${result.error.type}: ${result.error.reason ?? ''}`);
    }
  }
}

function errorBody(err: unknown): { error?: unknown } | undefined {
  return (err as { meta?: { body?: { error?: unknown } } } | null)?.meta?.body;
}

function isAlreadyExists(err: unknown): boolean {
  const error = errorBody(err)?.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { type?: unknown }).type === 'resource_already_exists_exception'
  );
}

/** An endpoint of a module the cluster does not have answers `no handler found for uri ...`. */
function isMissingEndpoint(err: unknown): boolean {
  const error = errorBody(err)?.error;
  return typeof error === 'string' && error.startsWith('no handler found');
}

/**
 * Connects, creates the index when missing, and returns the search adapter. Rejects when
 * Elasticsearch cannot be reached.
 *
 * @example
 * const search = await createElasticsearchSearch({ url: 'http://127.0.0.1:9200' });
 */
export async function createElasticsearchSearch(options: ElasticsearchSearchOptions): Promise<SearchIndex> {
  const { Client } = await import('@elastic/elasticsearch');
  const client: Client = new Client({ node: options.url });
  const index = options.index ?? 'natter-messages';
  const refresh = options.refresh ?? false;

  try {
    // `GET /` (client.info/ping) is not available on every distribution; cluster health is.
    await client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    if (!(await client.indices.exists({ index }))) {
      // Another node may create it at the same time.
      await client.indices.create({ index, ...INDEX_BODY }).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    }
  } catch (err) {
    await client.close();
    throw err;
  }

  const docId = (tenantId: string, messageId: string) => `${tenantId}/${messageId}`;

  /** False once the cluster turned out to lack `_delete_by_query` (it lives in the `reindex` module). */
  let canDeleteByQuery = true;

  /** Deletes a tenant's documents matching `filter`, then refreshes so they stop matching at once. */
  async function deleteMatching(tenantId: string, filter: estypes.QueryDslQueryContainer[]): Promise<void> {
    const query = { bool: { filter: [{ term: { tenantId } }, ...filter] } };
    if (canDeleteByQuery) {
      try {
        await client.deleteByQuery({ index, routing: tenantId, conflicts: 'proceed', refresh: true, query });
        return;
      } catch (err) {
        if (!isMissingEndpoint(err)) throw err;
        canDeleteByQuery = false;
      }
    }
    // Without the reindex module: page through the matching ids (search_after on the unique
    // messageId) and delete them in bulk.
    await client.indices.refresh({ index });
    let after: estypes.SortResults | undefined;
    for (;;) {
      const res = await client.search({
        index,
        routing: tenantId,
        size: BULK_CHUNK,
        _source: false,
        query,
        sort: [{ messageId: 'asc' }],
        ...(after ? { search_after: after } : {}),
      });
      const hits = res.hits.hits;
      const lastHit = hits.at(-1);
      if (!lastHit) break;
      const operations = hits.map((h) => ({ delete: { _index: index, _id: h._id, routing: tenantId } }));
      checkBulk(await client.bulk({ operations }));
      after = lastHit.sort;
    }
    await client.indices.refresh({ index });
  }

  return {
    name: 'elasticsearch',

    async upsert(tenantId, docs) {
      const [only] = docs;
      if (docs.length === 1 && only) {
        await client.index({
          index,
          id: docId(tenantId, only.messageId),
          routing: tenantId,
          document: toEsDoc(tenantId, only),
          refresh,
        });
        return;
      }
      for (const part of chunks(docs, BULK_CHUNK)) {
        const operations = part.flatMap((d) => [
          { index: { _index: index, _id: docId(tenantId, d.messageId), routing: tenantId } },
          toEsDoc(tenantId, d),
        ]);
        checkBulk(await client.bulk({ operations, refresh }));
      }
    },

    async remove(tenantId, messageIds) {
      for (const part of chunks(messageIds, BULK_CHUNK)) {
        const operations = part.map((id) => ({
          delete: { _index: index, _id: docId(tenantId, id), routing: tenantId },
        }));
        checkBulk(await client.bulk({ operations, refresh }));
      }
    },

    async removeChannel(tenantId, channelId) {
      await deleteMatching(tenantId, [{ term: { channelId } }]);
    },

    async removeTenant(tenantId) {
      await deleteMatching(tenantId, []);
    },

    async search(tenantId, query) {
      const typed = queryWords(query.text);
      const words = typed.flatMap(foldedWords);
      const last = words.at(-1);
      if (last === undefined || query.channelIds.length === 0) return { hits: [], total: 0 };
      const rest = words.slice(0, -1);
      const from = Math.min(query.offset, MAX_RESULT_WINDOW);
      const size = Math.max(0, Math.min(query.limit, MAX_RESULT_WINDOW - from));
      const res = await client.search<EsDoc>({
        index,
        routing: tenantId,
        track_total_hits: true,
        from,
        size,
        _source: ['messageId', 'channelId', 'seq', 'text'],
        query: {
          bool: {
            filter: [{ term: { tenantId } }, { terms: { channelId: query.channelIds } }],
            must: [
              ...(rest.length > 0 ? [{ match: { folded: { query: rest.join(' '), operator: 'and' as const } } }] : []),
              { prefix: { folded: { value: last } } },
            ],
            // The last word typed in full ranks above words that only start with it.
            should: [{ term: { folded: { value: last } } }],
          },
        },
        // Ties (equal scores) newest first, then by id, so pages never overlap.
        sort: ['_score', { createdAt: 'desc' }, { messageId: 'asc' }],
      });
      const total = res.hits.total;
      return {
        total: typeof total === 'number' ? total : (total?.value ?? 0),
        hits: res.hits.hits.flatMap((h) => {
          const s = h._source;
          return s
            ? [{ messageId: s.messageId, channelId: s.channelId, seq: s.seq, highlight: highlight(s.text, typed) }]
            : [];
        }),
      };
    },

    async refresh() {
      await client.indices.refresh({ index });
    },

    async close() {
      await client.close();
    },
  };
}
