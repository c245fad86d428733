/**
 * Keeps the search index in step with the store, from the bus: new and edited messages are
 * (re)indexed, deleted ones and deleted channels removed. Idempotent, so redelivered events are
 * harmless. Failures are reported and the event is dropped from the index only — the store keeps
 * the message, and `natter-server reindex` rebuilds everything.
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

/** Subscribes the index to the bus; returns the unsubscribe function. */
export function startSearchIndexer(bus: EventBus, index: SearchIndex, onError: (err: unknown) => void): () => void {
  let chain = Promise.resolve();
  return bus.subscribe((event) => {
    // Applied one after another, so an edit never overtakes its message.
    chain = chain.then(() => applyToIndex(index, event)).catch(onError);
  });
}
