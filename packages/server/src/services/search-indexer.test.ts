import { afterEach, describe, expect, it } from 'vitest';
import { fakeEvent } from '../../test/contracts/bus.contract.js';
import { createMemoryBus } from '../adapters/bus/memory.js';
import { createSqliteSearch } from '../adapters/search/sqlite-fts.js';
import type { EventBus } from '../ports/bus.js';
import type { SearchIndex } from '../ports/search.js';
import { startSearchIndexer } from './search-indexer.js';

/** The embedded index, with the seqs of each upsert it was asked for recorded in order. */
function recordingIndex(): { index: SearchIndex; upserts: number[][] } {
  const real = createSqliteSearch({ path: ':memory:', thread: false });
  const upserts: number[][] = [];
  const index: SearchIndex = {
    ...real,
    upsert: (tenantId, docs) => {
      upserts.push(docs.map((d) => d.seq));
      return real.upsert(tenantId, docs);
    },
  };
  return { index, upserts };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('search indexer pacing (minIntervalMs)', () => {
  let bus: EventBus;
  let index: SearchIndex;
  afterEach(async () => {
    await bus.close();
    await index.close();
  });

  it('indexes a lone message at once, and what arrives within the interval in one write', async () => {
    bus = createMemoryBus();
    const rec = recordingIndex();
    index = rec.index;
    const stop = await startSearchIndexer(bus, index, { minIntervalMs: 300 });
    const started = performance.now();
    await bus.publish([fakeEvent('t1', 'c', 1)]);
    await until(() => rec.upserts.length === 1);
    // The first message after a quiet spell does not wait for the interval.
    expect(performance.now() - started).toBeLessThan(250);
    // Sent one by one while the indexer waits: indexed together once the interval is over.
    for (const seq of [2, 3, 4]) {
      await bus.publish([fakeEvent('t1', 'c', seq)]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => rec.upserts.length === 2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(rec.upserts).toEqual([[1], [2, 3, 4]]);
    const found = await index.search('t1', { text: 'message', channelIds: ['c'], limit: 10, offset: 0 });
    expect(found.total).toBe(4);
    await stop();
  });

  it('without an interval, indexes each batch as the bus hands it over', async () => {
    bus = createMemoryBus();
    const rec = recordingIndex();
    index = rec.index;
    const stop = await startSearchIndexer(bus, index, { minIntervalMs: 0 });
    for (const seq of [1, 2, 3]) {
      await bus.publish([fakeEvent('t1', 'c', seq)]);
      await until(() => rec.upserts.length === seq);
    }
    expect(rec.upserts).toEqual([[1], [2], [3]]);
    await stop();
  });
});
