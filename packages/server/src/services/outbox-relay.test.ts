import { afterEach, describe, expect, it, vi } from 'vitest';
import { emits, messageInput, seedChannel, tenantInput } from '../../test/contracts/fixtures.js';
import { createMemoryBus } from '../adapters/bus/memory.js';
import { createSqliteStore } from '../adapters/store/sqlite/index.js';
import type { OutboxEvent } from '../domain/events.js';
import type { EventBus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.js';

describe('outbox relay', () => {
  let store: Store;
  let bus: EventBus;
  let relay: OutboxRelay;

  afterEach(async () => {
    await relay.close();
    await bus.close();
    await store.close();
  });

  /** What the relay's prunes deleted so far, in all. */
  async function deleted(prune: { mock: { results: { value: unknown }[] } }): Promise<number> {
    const counts = await Promise.all(prune.mock.results.map((r) => r.value as Promise<number>));
    return counts.reduce((a, b) => a + b, 0);
  }

  it('publishes what is stored, and deletes it from the outbox once older than the retention', async () => {
    store = createSqliteStore({ path: ':memory:' });
    await store.platform.createTenant(tenantInput('A'));
    const t = store.tenant('A');
    await seedChannel(t, 'c1', ['u1']);
    for (let i = 0; i < 3; i++) await t.appendMessage(messageInput('c1', 'u1'), emits.messageNew);
    const published: OutboxEvent[] = [];
    bus = createMemoryBus();
    bus.subscribe((e) => {
      published.push(e);
    });
    let clock = Date.now();
    const prune = vi.spyOn(store.outbox, 'prune');
    relay = createOutboxRelay({ outbox: store.outbox, bus, retainMs: 60_000, pruneEveryMs: 10, now: () => clock });
    await relay.drain();
    expect(published.map((e) => e.type)).toEqual(['message.new', 'message.new', 'message.new']);

    // Within the retention, the scheduled prunes delete nothing.
    await vi.waitFor(() => expect(prune.mock.calls.length).toBeGreaterThanOrEqual(2));
    expect(await deleted(prune)).toBe(0);
    // An hour on, the three published events are deleted, a bounded number per write.
    clock += 3_600_000;
    await vi.waitFor(async () => expect(await deleted(prune)).toBe(3));
    expect(prune.mock.calls.every(([, limit]) => limit === 1000)).toBe(true);
    expect(await store.outbox.prune(new Date(clock).toISOString())).toBe(0);
  });
});
