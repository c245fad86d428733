/**
 * Keeps the search index in step with the store, from the bus: new and edited messages are
 * (re)indexed, deleted ones and deleted channels removed. Idempotent, so redelivered events are
 * harmless. Events reach it through a bus consumer group, so with several nodes each event is
 * indexed once; a failing event is retried by the bus, then reported. The store stays the truth:
 * `natter-server reindex` rebuilds the index from it.
 */
import type { Message } from '@natter/protocol';
import type { OutboxEvent } from '../domain/events.js';
import type { EventBus } from '../ports/bus.js';
import type { SearchDoc, SearchIndex } from '../ports/search.js';

/** The searchable part of a message; null when it has no readable text. */
export function toSearchDoc(message: Message): SearchDoc | null {
  if (message.deletedAt || message.encrypted || !message.text) return null;
  return {
    messageId: message.id,
    channelId: message.channelId,
    seq: message.seq,
    authorId: message.authorId,
    text: message.text,
    createdAt: message.createdAt,
  };
}

export async function applyToIndex(index: SearchIndex, event: OutboxEvent): Promise<void> {
  switch (event.type) {
    case 'message.new':
    case 'message.updated':
    case 'message.deleted': {
      const doc = toSearchDoc(event.payload.message);
      if (doc) await index.upsert(event.tenantId, [doc]);
      else await index.remove(event.tenantId, [event.payload.message.id]);
      return;
    }
    case 'channel.deleted':
      await index.removeChannel(event.tenantId, event.payload.channel.id);
      return;
    default:
      return;
  }
}

/**
 * Applies a batch of events with as few index calls as possible: per tenant, one upsert and one
 * remove for the messages of the batch (the last event of a message decides whether it is in the
 * index, as applying them one by one would). A deleted channel is applied in its place in the
 * sequence, after what came before it.
 */
export async function applyBatchToIndex(index: SearchIndex, events: readonly OutboxEvent[]): Promise<void> {
  /** tenant → message id → its document, or null to remove it. */
  let pending = new Map<string, Map<string, SearchDoc | null>>();
  const flush = async () => {
    for (const [tenantId, docs] of pending) {
      const upserts: SearchDoc[] = [];
      const removals: string[] = [];
      for (const [id, doc] of docs) {
        if (doc) upserts.push(doc);
        else removals.push(id);
      }
      if (upserts.length > 0) await index.upsert(tenantId, upserts);
      if (removals.length > 0) await index.remove(tenantId, removals);
    }
    pending = new Map();
  };
  for (const event of events) {
    switch (event.type) {
      case 'message.new':
      case 'message.updated':
      case 'message.deleted': {
        let docs = pending.get(event.tenantId);
        if (!docs) {
          docs = new Map();
          pending.set(event.tenantId, docs);
        }
        const { message } = event.payload;
        docs.set(message.id, toSearchDoc(message));
        break;
      }
      case 'channel.deleted':
        await flush();
        await index.removeChannel(event.tenantId, event.payload.channel.id);
        break;
      default:
        break;
    }
  }
  await flush();
}

/** Consumer group that feeds the search index: one node indexes each event. */
export const SEARCH_GROUP = 'natter-search';

export interface SearchIndexerOptions {
  /**
   * Least milliseconds from the start of one index write to the start of the next. Events that
   * arrive meanwhile wait at the bus and are then indexed together, in one write per tenant. A
   * message sent after a quiet spell is indexed at once; under load each message waits at most
   * this long. Indexing one message per write costs several times what it costs in a batch (the
   * commit, and for the embedded index a hand-off to its thread), which a busy server pays in CPU
   * taken from its connections (bench/README.md, "Search indexing in batches").
   * @default 0 (each batch as the bus hands it over)
   */
  minIntervalMs?: number;
}

/**
 * Starts indexing from the bus; resolves with the function that stops it. Where the bus hands
 * events over in batches, a batch is indexed with one write per tenant (one SQLite transaction
 * for the embedded index) instead of one per message.
 */
export function startSearchIndexer(
  bus: EventBus,
  index: SearchIndex,
  options: SearchIndexerOptions = {},
): Promise<() => Promise<void>> {
  const minIntervalMs = options.minIntervalMs ?? 0;
  if (!bus.consumeBatches) return bus.consume(SEARCH_GROUP, (event) => applyToIndex(index, event));
  if (minIntervalMs <= 0) return bus.consumeBatches(SEARCH_GROUP, (events) => applyBatchToIndex(index, events));
  return bus.consumeBatches(SEARCH_GROUP, async (events) => {
    const started = performance.now();
    await applyBatchToIndex(index, events);
    // The bus hands over the next batch when this one resolves: waiting here lets it fill up.
    const rest = minIntervalMs - (performance.now() - started);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  });
}
