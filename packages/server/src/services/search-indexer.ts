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

/** Consumer group that feeds the search index: one node indexes each event. */
export const SEARCH_GROUP = 'natter-search';

/** Starts indexing from the bus; resolves with the function that stops it. */
export function startSearchIndexer(bus: EventBus, index: SearchIndex): Promise<() => Promise<void>> {
  return bus.consume(SEARCH_GROUP, (event) => applyToIndex(index, event));
}
