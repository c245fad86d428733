/**
 * Rebuilds the search index from the store, the source of truth: every message of every tenant is
 * read in id order and indexed, or removed from the index when it has no searchable text (deleted,
 * encrypted, no text). Idempotent: running it again gives the same index; an interrupted run is
 * finished by running it again.
 *
 * Use it after switching search engines, after losing the index, or when the bus dropped events.
 * It may run while the server runs; a message edited during the run can be indexed in its older
 * version if the run reads it just before the edit and writes it just after the live indexer did,
 * so run it again after such a window if that matters.
 *
 * Index documents whose message no longer exists in the store (a channel deleted while its
 * `channel.deleted` event was lost) are only removed with `clean`, which first empties each
 * tenant's index, so that tenant's search is incomplete until the tenant is done.
 *
 * @see docs/engines.md "Elasticsearch search" (usage: `natter-server reindex [--clean]`)
 */
import type { SearchDoc, SearchIndex } from '../ports/search.js';
import type { Store } from '../ports/store.js';
import { toSearchDoc } from '../services/search-indexer.js';
import { type Progress, silentProgress } from './progress.js';

export interface ReindexOptions {
  store: Store;
  search: SearchIndex;
  /** Receives a line at the start and a summary at the end. @default no logging */
  log?: (line: string) => void;
  /** Receives the number of messages to scan, then the number scanned. @default silent */
  progress?: Progress;
  /** Messages read and written per round trip. @default 500 */
  batchSize?: number;
  /** Empty each tenant's index before rebuilding it (drops documents of vanished messages). @default false */
  clean?: boolean;
}

export interface ReindexResult {
  tenants: number;
  /** Messages read from the store. */
  scanned: number;
  /** Messages written to the index. */
  indexed: number;
  /** Messages without searchable text, removed from the index. */
  removed: number;
}

async function allTenantIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.platform.listTenants({ limit: 200, ...(after ? { after } : {}) });
    ids.push(...page.items.map((t) => t.id));
    after = page.next ?? undefined;
  } while (after);
  return ids;
}

/**
 * Rebuilds the index of every tenant from the store.
 * @example await reindex({ store, search, log: console.log, progress: createProgress(process.stderr, { label: 'reindex' }) });
 */
export async function reindex(options: ReindexOptions): Promise<ReindexResult> {
  const { store, search, log = () => {}, progress = silentProgress, batchSize = 500, clean = false } = options;
  const tenantIds = await allTenantIds(store);
  let total = 0;
  for (const id of tenantIds) total += await store.tenant(id).countMessages();
  log(`reindex: ${total} messages of ${tenantIds.length} tenants into ${search.name}${clean ? ' (clean)' : ''}`);

  const result: ReindexResult = { tenants: tenantIds.length, scanned: 0, indexed: 0, removed: 0 };
  progress.start(total);
  for (const tenantId of tenantIds) {
    const tenant = store.tenant(tenantId);
    if (clean) await search.removeTenant(tenantId);
    let after: string | undefined;
    do {
      const page = await tenant.scanMessages({ limit: batchSize, ...(after ? { after } : {}) });
      const docs: SearchDoc[] = [];
      const gone: string[] = [];
      for (const message of page.items) {
        const doc = toSearchDoc(message);
        if (doc) docs.push(doc);
        else gone.push(message.id);
      }
      if (docs.length > 0) await search.upsert(tenantId, docs);
      // Skipped after `clean`: the tenant's index is empty already.
      if (gone.length > 0 && !clean) await search.remove(tenantId, gone);
      result.scanned += page.items.length;
      result.indexed += docs.length;
      result.removed += gone.length;
      progress.advance(page.items.length);
      after = page.next ?? undefined;
    } while (after);
  }
  await search.refresh();
  progress.finish();
  log(
    `reindex: done: ${result.indexed} messages indexed, ${result.removed} without searchable text, ` +
      `${result.tenants} tenants`,
  );
  return result;
}
