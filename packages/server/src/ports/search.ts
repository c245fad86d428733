/**
 * The search port: full-text search over message text, per tenant.
 *
 * The index is fed from the bus (see `services/search-indexer.ts`), so it lags the store by the
 * bus's delay, and under load by up to `NATTER_SEARCH_BATCH_MS` (writes are batched); it is
 * rebuilt from the store by `natter-server reindex`. Encrypted messages have no
 * text the server can read and are never indexed. Callers pass the channels the user may read;
 * the index never decides access.
 *
 * Adapters: `adapters/search/sqlite-fts.ts` (embedded default). Every adapter passes
 * `test/contracts/search.contract.ts`.
 */

/** What the index keeps of a message. */
export interface SearchDoc {
  messageId: string;
  channelId: string;
  seq: number;
  authorId: string | null;
  text: string;
  createdAt: string;
}

export interface SearchQuery {
  /** Words to find; all must match (prefix match on the last one). Operators are not interpreted. */
  text: string;
  /** Only these channels. An empty list finds nothing. */
  channelIds: string[];
  limit: number;
  offset: number;
}

export interface SearchHit {
  messageId: string;
  channelId: string;
  seq: number;
  /** The text with matches wrapped in `<mark>…</mark>`; the rest of the text is HTML-escaped. */
  highlight: string;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Matches in total (for pagination). */
  total: number;
}

export interface SearchIndex {
  readonly name: string;
  /** Adds or replaces documents (idempotent by message id). */
  upsert(tenantId: string, docs: SearchDoc[]): Promise<void>;
  remove(tenantId: string, messageIds: string[]): Promise<void>;
  removeChannel(tenantId: string, channelId: string): Promise<void>;
  removeTenant(tenantId: string): Promise<void>;
  search(tenantId: string, query: SearchQuery): Promise<SearchResult>;
  /** Waits until written documents are visible to search (a no-op where writes are immediate). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Turns user input into words: letters and digits only, at most 16 words. */
export function queryWords(text: string): string[] {
  return (text.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 16);
}

/** Escapes text for HTML, so highlights can only contain our own `<mark>` tags. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
